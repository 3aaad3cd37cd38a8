"""Case domain errors, each with its own code."""

from __future__ import annotations

from enforcement.core.errors import Conflict, DomainError, NotFound


class CaseNotFound(NotFound):
    code = "case_not_found"
    message = "no such case"


class DuplicateCaseNumber(Conflict):
    code = "duplicate_case_number"
    message = "a case with this number already exists"


class CaseClosed(Conflict):
    code = "case_closed"
    message = "the case is closed"


class PaymentExceedsOutstanding(DomainError):
    code = "payment_exceeds_outstanding"
    status = 422
    message = "the payment is larger than what is owed"


class CaseNumberCourtMismatch(DomainError):
    code = "case_number_court_mismatch"
    status = 403
    message = "the case number belongs to another court"


class CloseRefused(DomainError):
    code = "close_refused"
    status = 409
