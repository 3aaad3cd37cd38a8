"""Assets domain errors, each with its own code (rendered once by the app)."""

from __future__ import annotations

from enforcement.core.errors import Conflict, DomainError, InvalidInput, NotFound


class AssetNotFound(NotFound):
    code = "asset_not_found"
    message = "no such asset"


class InquiryNotFound(NotFound):
    code = "inquiry_not_found"
    message = "no such inquiry"


class FreezeNotFound(NotFound):
    code = "freeze_not_found"
    message = "no such freeze"


class SweepNotFound(NotFound):
    code = "sweep_not_found"
    message = "no such sweep run"


class CaseNotOpen(Conflict):
    code = "case_not_open"
    message = "only debtors of an open (filed, not closed) case may be queried or frozen"


class NoRespondents(Conflict):
    code = "no_respondents"
    message = "the case has no respondent to query"


class AssetNotPresent(Conflict):
    code = "asset_not_present"
    message = "the registry no longer reports this asset, or it was sold"


class AlreadyFrozen(Conflict):
    code = "already_frozen"
    message = "this case already holds an active or queued freeze on the asset"


class FreezeCapExceeded(DomainError):
    code = "freeze_cap_exceeded"
    status = 422
    message = "the freeze would exceed what the case is owed (outstanding + fee; 查封 19)"


class FreezeReleased(Conflict):
    code = "freeze_released"
    message = "the freeze was released"


class FreezeExpired(Conflict):
    code = "freeze_expired"
    message = "the freeze has lapsed; it can no longer be renewed (查封 27)"


class FreezeNotActive(Conflict):
    code = "freeze_not_active"
    message = "the freeze is not in force"


class RenewalNotLonger(InvalidInput):
    code = "renewal_invalid"
    message = "a renewal must end after the current expiry and within the legal maximum"


class NotADeposit(InvalidInput):
    code = "not_a_deposit"
    message = "only deposits can be deducted; other assets are sold"


class DeductionTooLarge(InvalidInput):
    code = "deduction_too_large"
    message = "the deduction exceeds the frozen money or what the case is owed"


class AssetNotFrozen(Conflict):
    code = "asset_not_frozen"
    message = "the asset has no active freeze"


class AssetNotSaleable(Conflict):
    code = "asset_not_saleable"
    message = "deposits are deducted, not auctioned"


class RegistryNotEnabled(InvalidInput):
    code = "registry_not_enabled"
    message = "no connector is enabled for that registry"


class RegistryUnavailable(DomainError):
    code = "registry_unavailable"
    status = 503
    message = "the registry did not answer; try again later"


class RegistryRefused(DomainError):
    code = "registry_refused"
    status = 502
    message = "the registry refused the request or answered with data we cannot read"
