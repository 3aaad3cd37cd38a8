"""Identifiers the law defines: resident ID, unified social credit code, case number.

Each validator returns the normalised value or raises ``PydanticCustomError`` with its own
code, so the same functions serve request schemas and services. Rules: ``rules.md`` §3.1, §6.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _fold(value: str) -> str:
    """Full-width to half-width, no spaces, upper case: how people actually type IDs."""
    return unicodedata.normalize("NFKC", value).replace(" ", "").upper()


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_resident_id(value: str) -> str:
    """An 18-character resident ID with a real birth date and a correct check character."""
    text = _fold(value)
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise PydanticCustomError("invalid_id_number", "an ID number has 17 digits and a check")
    try:
        dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError as exc:
        raise PydanticCustomError(
            "invalid_id_number", "the ID number carries an impossible birth date"
        ) from exc
    if resident_id_check_char(text[:17]) != text[17]:
        raise PydanticCustomError("invalid_id_number", "the ID number's check character is wrong")
    return text


def birth_date_of(id_number: str) -> dt.date:
    """The birth date encoded in a (valid) resident ID."""
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def sex_of(id_number: str) -> str:
    """``male`` for an odd sequence digit, ``female`` for an even one."""
    return "male" if int(id_number[16]) % 2 else "female"


def credit_code_check_char(first17: str) -> str:
    """GB 32100-2015 check character (mod 31 over the 31-character set)."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """An 18-character unified social credit code with a correct check character."""
    text = _fold(value)
    if len(text) != 18 or any(c not in _USCC_CHARS for c in text):
        raise PydanticCustomError(
            "invalid_credit_code", "a credit code has 18 characters from 0-9 and A-Y (no I O S V Z)"
        )
    if credit_code_check_char(text[:17]) != text[17]:
        raise PydanticCustomError("invalid_credit_code", "wrong check character")
    return text


def make_resident_id(region: str, birth: dt.date, sequence: int) -> str:
    """Build a valid resident ID (demo data and tests)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def make_credit_code(body17: str) -> str:
    """Build a valid credit code from its first 17 characters (demo data and tests)."""
    return body17 + credit_code_check_char(body17)


def mask_id_number(value: str, keep_prefix: int = 10, keep_suffix: int = 4) -> str:
    """Public form of an ID: region and birth year kept, the middle starred, last four kept."""
    if len(value) <= keep_prefix + keep_suffix:
        return "*" * len(value)
    middle = len(value) - keep_prefix - keep_suffix
    return value[:keep_prefix] + "*" * middle + value[len(value) - keep_suffix :]


_CASE_NUMBER = re.compile(
    r"^[(（](?P<year>\d{4})[)）]"
    r"(?P<court>最高法|[\u4e00-\u9fff](?:\d{2}|\d{4})?)"
    r"(?P<type>执(?:恢|保|异|复|监|协|请|他)?)"
    r"(?:字第)?(?P<seq>\d{1,6})号$"
)


@dataclass(frozen=True)
class CaseNumber:
    """A parsed 案号: year, court code, type code and sequence."""

    year: int
    court_code: str
    type_code: str
    sequence: int

    def __str__(self) -> str:
        return f"（{self.year}）{self.court_code}{self.type_code}{self.sequence}号"


def parse_case_number(value: str) -> CaseNumber:
    """Parse an enforcement case number in the 2016 or the pre-2016 style, either bracket width."""
    text = value.strip().replace(" ", "")
    match = _CASE_NUMBER.match(text)
    if not match:
        raise PydanticCustomError(
            "invalid_case_number",
            "a case number looks like （2020）甘0602执1234号: year, court code, 执 type, number",
        )
    year = int(match["year"])
    if not 1990 <= year <= 2100:
        raise PydanticCustomError("invalid_case_number", "the case number's year is implausible")
    return CaseNumber(year, match["court"], match["type"], int(match["seq"]))


def normalize_case_number(value: str) -> str:
    """The one stored form: full-width brackets, no 字第."""
    return str(parse_case_number(value))


_COURT_CODE = re.compile(r"^(最高法|[\u4e00-\u9fff](?:\d{2}|\d{4})?)$")


def validate_court_code(value: str) -> str:
    """A court code as used in case numbers: 最高法, 甘, 甘06, 甘0602."""
    if not _COURT_CODE.match(value):
        raise PydanticCustomError("invalid_court_code", "a court code looks like 甘0602")
    return value


ResidentId = Annotated[
    str,
    AfterValidator(validate_resident_id),
    Field(description="18-character resident ID (checksum and birth date validated)"),
]
"""A schema field holding a valid resident ID, normalised (half-width, upper-case X)."""

CreditCode = Annotated[
    str,
    AfterValidator(validate_credit_code),
    Field(description="18-character unified social credit code (checksum validated)"),
]
"""A schema field holding a valid unified social credit code."""
