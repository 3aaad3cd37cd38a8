"""The law of the lists, pure: grounds, who may be listed, terms, removal and deadlines.

Sources (``rules.md`` §4): 失信 Arts 1–4 (grounds, term, who may not be listed), 失信 Arts
9–12 (deletion within 3 working days), 限消 Art 1 (every listed debtor is restricted).
Every function takes the facts and the date; nothing here reads the clock or the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from enforcement.cases.rules import add_months, add_working_days

KINDS = ("dishonest", "restricted")

ABLE_BUT_REFUSES = "able_but_refuses"
GROUNDS = (
    ABLE_BUT_REFUSES,  # 1 有履行能力而拒不履行
    "obstructs_enforcement",  # 2 伪造证据、暴力、威胁等妨碍、抗拒执行
    "evades_enforcement",  # 3 虚假诉讼、虚假仲裁或隐匿、转移财产等规避执行
    "false_property_report",  # 4 违反财产报告制度
    "violates_consumption_restriction",  # 5 违反限制消费令
    "breaks_settlement",  # 6 无正当理由拒不履行执行和解协议
)

BASE_TERM_YEARS = 2
MAX_EXTENSION_YEARS = 3
ADULT_AGE = 18
DELETION_WORKING_DAYS = 3
RELISTING_BAR_MONTHS = 6

RELATED_ROLE_LABELS = {
    "legal_representative": "legal representative",
    "principal": "principal person in charge",
    "directly_responsible": "person directly responsible",
    "actual_controller": "actual controller",
}
"""Whom an organization's restriction also binds (限消 Art 3)."""

REMOVAL_REASONS = (
    "performed",  # 1 全部履行 / 执行完毕
    "settled_and_performed",  # 2 和解协议履行完毕
    "applicant_request",  # 3 申请执行人书面申请并经准许
    "no_assets_after_termination",  # 4 终本后两次以上网络查询无财产
    "enforcement_stayed",  # 5 因审判监督或破产程序中止执行
    "not_enforced",  # 6 不予执行
    "case_terminated",  # 7 终结执行
    "basis_revoked",  # 执行依据被撤销
    "wrongly_listed",  # 不应纳入: revoke (Art 11)
    "expired",  # fixed term over; set by the system only
)
SYSTEM_ONLY_REASONS = ("expired",)
CLOSE_MODE_REMOVAL = {"terminated": "case_terminated", "not_enforced": "not_enforced"}
"""Case close modes that end every listing of the case by themselves."""


@dataclass(frozen=True)
class Refusal:
    """Why a listing may not be made: a code for machines, a sentence for people."""

    code: str
    message: str


@dataclass(frozen=True)
class ListingFacts:
    """What the court knows when it lists: the subject, the case and Art 3 circumstances."""

    kind: str
    grounds: Sequence[str]
    years: int | None
    is_respondent: bool
    case_open: bool
    subject_kind: str
    birth_date: dt.date | None
    adequately_secured: bool = False
    frozen_total: int = 0
    owed_total: int = 0
    later_in_order: bool = False
    aggravated: bool = False
    already_listed: bool = False
    relisting_barred: bool = False


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def is_minor(birth_date: dt.date | None, day: dt.date) -> bool:
    """Under 18 on ``day``; unknown birth dates are not presumed minor."""
    return birth_date is not None and age_on(birth_date, day) < ADULT_AGE


def listing_refusal(facts: ListingFacts, today: dt.date) -> Refusal | None:
    """The first rule that forbids this listing, or None if it may be made."""
    checks = (_shape_refusal, _subject_refusal, _art3_refusal, _term_refusal)
    for check in checks:
        refusal = check(facts, today)
        if refusal is not None:
            return refusal
    return None


def _shape_refusal(facts: ListingFacts, today: dt.date) -> Refusal | None:
    """Kind and grounds as the law names them."""
    if facts.kind not in KINDS:
        return Refusal("unknown_kind", f"kind must be one of {', '.join(KINDS)}")
    unknown = [g for g in facts.grounds if g not in GROUNDS]
    if unknown:
        return Refusal("unknown_ground", f"unknown ground(s): {', '.join(unknown)}")
    if facts.kind == "dishonest" and not facts.grounds:
        return Refusal("ground_required", "a defaulter listing needs a statutory ground (失信 1)")
    if facts.kind == "restricted" and facts.grounds:
        return Refusal(
            "grounds_not_applicable", "consumption restriction needs no ground but the unpaid case"
        )
    return None


def _subject_refusal(facts: ListingFacts, today: dt.date) -> Refusal | None:
    """Who may be listed: a respondent of an open case, never a minor."""
    if not facts.is_respondent:
        return Refusal("not_a_respondent", "only a respondent of the case can be listed")
    if not facts.case_open:
        return Refusal("case_not_open", "only a debtor of an open, unpaid case can be listed")
    if facts.subject_kind == "person" and is_minor(facts.birth_date, today):
        return Refusal("minor_not_listable", "minors are never listed (失信 4)")
    if facts.already_listed:
        return Refusal("already_listed", "this debtor already has this listing in this case")
    if facts.relisting_barred and facts.kind == "dishonest":
        return Refusal(
            "relisting_barred",
            "the applicant asked for deletion less than 6 months ago (失信 10)",
        )
    return None


def _art3_refusal(facts: ListingFacts, today: dt.date) -> Refusal | None:
    """失信 Art 3: ground 1 does not apply to debtors who are in truth not refusing."""
    if facts.kind != "dishonest" or ABLE_BUT_REFUSES not in facts.grounds:
        return None
    if facts.adequately_secured:
        return Refusal("adequately_secured", "adequate security has been provided (失信 3(1))")
    if facts.owed_total > 0 and facts.frozen_total >= facts.owed_total:
        return Refusal(
            "assets_sufficient", "assets already frozen suffice to pay the debt (失信 3(2))"
        )
    if facts.later_in_order:
        return Refusal(
            "later_in_order", "the debtor is later in the order of performance (失信 3(3))"
        )
    return None


def _term_refusal(facts: ListingFacts, today: dt.date) -> Refusal | None:
    """The term: 2 years for grounds 2–6, up to 5 when aggravated (失信 2)."""
    if facts.years is None:
        return None
    if facts.kind != "dishonest" or ABLE_BUT_REFUSES in facts.grounds:
        return Refusal(
            "term_not_applicable",
            "only defaulter listings on grounds 2–6 have a fixed term (失信 2)",
        )
    if not BASE_TERM_YEARS <= facts.years <= BASE_TERM_YEARS + MAX_EXTENSION_YEARS:
        return Refusal("invalid_term", "the term is 2 years, extended by 1–3 years at most")
    if facts.years > BASE_TERM_YEARS and not (facts.aggravated or len(set(facts.grounds)) > 1):
        return Refusal(
            "extension_not_allowed",
            "only serious violent obstruction or several grounds extend the term (失信 2)",
        )
    return None


def correction_refusal(facts: ListingFacts, today: dt.date) -> Refusal | None:
    """A correction must leave a listing the law would allow (失信 Art 12): the same checks as
    listing, less those about the subject and the case, which a correction cannot change."""
    for check in (_shape_refusal, _art3_refusal, _term_refusal):
        refusal = check(facts, today)
        if refusal is not None:
            return refusal
    return None


def term_years(start: dt.date, end: dt.date | None) -> int | None:
    """The whole years of a fixed term (None: no fixed term)."""
    if end is None:
        return None
    return ((end.year - start.year) * 12 + end.month - start.month) // 12


def listing_end(
    kind: str, grounds: Iterable[str], years: int | None, start: dt.date
) -> dt.date | None:
    """Last effect date: grounds 2–6 run 2 (up to 5) years; ground 1 and restriction have none."""
    grounds = set(grounds)
    if kind != "dishonest" or ABLE_BUT_REFUSES in grounds:
        return None
    return add_months(start, 12 * (years or BASE_TERM_YEARS))


def removal_refusal(reason: str | None, *, by_system: bool = False) -> Refusal | None:
    """A removal needs a known reason; ``expired`` is the system's alone."""
    if not reason:
        return Refusal("reason_required", "a removal needs a reason code")
    if reason not in REMOVAL_REASONS:
        return Refusal("unknown_reason", f"reason must be one of {', '.join(REMOVAL_REASONS)}")
    if reason in SYSTEM_ONLY_REASONS and not by_system:
        return Refusal("reason_reserved", "expiry is recorded by the system")
    return None


def deletion_deadline(trigger: dt.date, holidays: Iterable[dt.date] = ()) -> dt.date:
    """Deletion, revocation or correction is due within 3 working days (失信 10–12)."""
    return add_working_days(trigger, DELETION_WORKING_DAYS, holidays)


def is_expired(ends_on: dt.date | None, today: dt.date) -> bool:
    """A fixed-term listing stops on its end date."""
    return ends_on is not None and today >= ends_on


def cascades_to_implied(reason: str) -> bool:
    """Does ending a defaulter listing also lift the restriction it implied?

    The restriction follows the unpaid debt (限消 1), not the defaulter term: it survives the
    term's expiry and ends with every other reason.
    """
    return reason != "expired"


def relisting_barred(removed_on: dt.date | None, today: dt.date) -> bool:
    """After an applicant-requested deletion, its re-listing request waits 6 months (失信 10)."""
    return removed_on is not None and today < add_months(removed_on, RELISTING_BAR_MONTHS)
