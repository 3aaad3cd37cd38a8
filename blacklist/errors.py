"""Errors of the blacklist domain, each with its own code."""

from __future__ import annotations

from enforcement.core.errors import Conflict, DomainError, InvalidInput, NotFound


class ListingRefused(DomainError):
    """A statutory rule forbids the listing; ``code`` names the rule."""

    code = "listing_refused"
    status = 422


class ListingNotFound(NotFound):
    code = "listing_not_found"
    message = "no such listing"


class ListingAlreadyRemoved(Conflict):
    code = "listing_already_removed"
    message = "the listing has already ended"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"
    message = "the feed cursor is not a sequence number this feed issued"


class CursorAhead(Conflict):
    code = "cursor_ahead"
    message = "the cursor is ahead of the feed's head: it was not issued by this feed"


class InvalidWebhookUrl(InvalidInput):
    code = "invalid_webhook_url"
    message = "a webhook URL must be an absolute http(s) URL"


class WebhookNotFound(NotFound):
    code = "webhook_not_found"
    message = "no such webhook subscription"


class EmptyScreening(InvalidInput):
    code = "missing_query"
    message = "give an id_number, a credit_code or a name"
