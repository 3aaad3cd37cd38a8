"""Money: integer fen inside, decimal yuan strings at the edges. No float ever touches money."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

_YUAN = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")


def parse_yuan(value: Any, *, allow_negative: bool = False) -> int:
    """Turn a yuan string such as ``"1234.56"`` into fen; refuse numbers and a third decimal."""
    if not isinstance(value, str):
        raise PydanticCustomError(
            "invalid_amount", 'amounts are decimal strings in yuan, such as "1234.56"'
        )
    text = value.strip()
    if not _YUAN.match(text):
        raise PydanticCustomError(
            "invalid_amount", 'an amount has at most two decimal places, e.g. "1234.56"'
        )
    try:
        fen = int((Decimal(text) * 100).to_integral_exact())
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise PydanticCustomError("invalid_amount", "not a decimal amount") from exc
    if fen < 0 and not allow_negative:
        raise PydanticCustomError("invalid_amount", "an amount may not be negative")
    return fen


def _fen_or_yuan(value: Any) -> int:
    """Inside Python money is an int of fen; a string is yuan (a re-validated response)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_yuan(value, allow_negative=True)


def format_yuan(fen: int) -> str:
    """Fen as a yuan string with exactly two decimals: 123456 → ``"1234.56"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def yuan_to_fen(yuan: int) -> int:
    """Whole yuan to fen (rule tables speak in yuan)."""
    return yuan * 100


def _require_positive(fen: int) -> int:
    if fen <= 0:
        raise PydanticCustomError("invalid_amount", "the amount must be greater than zero")
    return fen


_SERIALIZE = PlainSerializer(format_yuan, return_type=str, when_used="always")
_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["1250000.00"]}
)

Yuan = Annotated[int, BeforeValidator(_fen_or_yuan), _SERIALIZE, _SCHEMA]
"""Money in responses and internal models: an int of fen, shown as a yuan string."""

AmountIn = Annotated[int, BeforeValidator(parse_yuan), _SERIALIZE, _SCHEMA]
"""Money in a request: a yuan string only (zero allowed), held as fen."""

PositiveAmountIn = Annotated[
    int, BeforeValidator(parse_yuan), AfterValidator(_require_positive), _SERIALIZE, _SCHEMA
]
"""Money in a request that must be more than zero (payments, principal, bids)."""
