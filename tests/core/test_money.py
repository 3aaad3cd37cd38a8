"""Money parsing and formatting: fen inside, yuan strings outside, never a float."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from enforcement.core.money import AmountIn, PositiveAmountIn, Yuan, format_yuan


class Request(BaseModel):
    amount: PositiveAmountIn
    optional: AmountIn = 0


class Response(BaseModel):
    amount: Yuan


@pytest.mark.parametrize(
    ("text", "fen"), [("0.01", 1), ("1", 100), ("1234.5", 123450), ("1250000.00", 125000000)]
)
def test_parse(text, fen):
    assert Request(amount=text).amount == fen


@pytest.mark.parametrize("bad", ["-1.00", "1.234", "abc", "1e5", 12.5, 100, "0", "0.00", True])
def test_refused(bad):
    with pytest.raises(ValidationError) as info:
        Request(amount=bad)
    assert info.value.errors()[0]["type"] == "invalid_amount"


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (1, "0.01"), (123456, "1234.56"), (-5, "-0.05")]
)
def test_format(fen, text):
    assert format_yuan(fen) == text


def test_response_round_trip():
    dumped = Response(amount=123456).model_dump(mode="json")
    assert dumped == {"amount": "1234.56"}
    assert Response.model_validate(dumped).amount == 123456
