"""Chinese identifiers as the mock registries make and (loosely) check them (rules.md §6).

The mocks are somebody else's system: they depend on nothing of ours, so they carry their
own small copies of the check-digit rules.
"""

from __future__ import annotations

import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_CHARSET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
PLATE_PROVINCES = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青蒙桂宁新藏"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

_PERSON_ID = re.compile(r"^(\d{17}[\dX]|\d{15})$")
_CREDIT_CODE = re.compile(rf"^[{CREDIT_CHARSET}]{{18}}$")
_PLATE = re.compile(rf"^[{PLATE_PROVINCES}][{PLATE_LETTERS}][0-9A-HJ-NP-Z]{{5,6}}$")


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a resident ID."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def credit_check_char(first17: str) -> str:
    """GB 32100 check character of a unified social credit code."""
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def vin_check_digit(vin: str) -> str:
    """ISO 3779 check digit (position 9) of a 17-character VIN."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def is_valid_vin(vin: str) -> bool:
    """17 characters without I, O, Q and a correct check digit."""
    return len(vin) == 17 and all(c in VIN_CHARSET for c in vin) and vin[8] == vin_check_digit(vin)


def looks_like_person_id(value: str) -> bool:
    """Loose check: 18 characters (or a legacy 15-digit ID); check digit not enforced."""
    return bool(_PERSON_ID.match(value.upper()))


def looks_like_credit_code(value: str) -> bool:
    """Loose check: 18 characters of the credit-code alphabet; check char not enforced."""
    return bool(_CREDIT_CODE.match(value.upper()))


def looks_like_plate(value: str) -> bool:
    """Province + office letter + 5 characters (6 for new energy), GA 36-2018."""
    return bool(_PLATE.match(value))
