"""Auction errors, each with its own code (rendered as ``{"error": {...}}`` by the kernel)."""

from __future__ import annotations

from enforcement.core.errors import Conflict, DomainError, Forbidden, NotFound


class AuctionNotFound(NotFound):
    code = "auction_not_found"
    message = "no such auction"


class BidderNotFound(NotFound):
    code = "bidder_not_found"
    message = "no such bidder"


class RuleViolation(DomainError):
    """A rule of rules.md §1 refuses the request; ``code`` names the rule."""

    code = "auction_rule"
    status = 422
    message = "the auction rules do not allow this"


class BidRefused(DomainError):
    """A bid that the engine refuses; nothing was written."""

    code = "bid_refused"
    status = 409
    message = "the bid was refused"


class AuctionClosed(Conflict):
    code = "auction_closed"
    message = "bidding has ended"


class AuctionNotOpen(Conflict):
    code = "auction_not_open"
    message = "bidding has not started"


class AuctionCancelled(Conflict):
    code = "auction_cancelled"
    message = "the auction was cancelled"


class NoDeposit(Conflict):
    code = "no_deposit"
    message = "register and pay the deposit before bidding"


class BidderBarred(Forbidden):
    code = "bidder_barred"
    message = "this bidder may not take part in this auction"


class AlreadyRegistered(Conflict):
    code = "already_registered"
    message = "this bidder already paid the deposit for this auction"


class AssetAlreadyListed(Conflict):
    code = "asset_already_listed"
    message = "the asset is already on sale"


class WrongState(Conflict):
    code = "auction_wrong_state"
    message = "the auction is not in a state that allows this"


class NotWinner(Forbidden):
    code = "not_winner"
    message = "only the winning bidder may do this"


class PaymentFailed(DomainError):
    code = "payment_failed"
    status = 402
    message = "the payment provider refused the payment"
