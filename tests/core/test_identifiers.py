"""Identifier rules, table-tested against the worked examples of rules.md §6."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from enforcement.core.identifiers import (
    birth_date_of,
    mask_id_number,
    normalize_case_number,
    parse_case_number,
    sex_of,
    validate_credit_code,
    validate_resident_id,
)


@pytest.mark.parametrize(
    "value",
    ["11010519491231002X", "440524188001010014", "110101199003074477", "11010519491231002x"],
)
def test_valid_resident_ids(value):
    assert validate_resident_id(value) == value.upper()


def test_full_width_id_is_normalised():
    assert validate_resident_id("１１０１０１１９９００３０７４４７７") == "110101199003074477"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("110101199003074478", "check"),  # last digit wrong
        ("110101199002304471", "date"),  # 30 February
        ("11010119900307447", "length"),
        ("1101011990030744AX", "characters"),
    ],
)
def test_invalid_resident_ids(value, why):
    with pytest.raises(PydanticCustomError) as info:
        validate_resident_id(value)
    assert info.value.type == "invalid_id_number", why


def test_birth_date_and_sex():
    assert str(birth_date_of("11010519491231002X")) == "1949-12-31"
    assert sex_of("11010519491231002X") == "female"  # sequence 002: even
    assert sex_of("110101199003074477") == "male"  # 447: odd


@pytest.mark.parametrize(
    "value",
    ["91350200776049653A", "91350500798359476R", "913502000728319549", "91350213678251743X"],
)
def test_valid_credit_codes(value):
    assert validate_credit_code(value) == value


@pytest.mark.parametrize(
    "value", ["91350200776049653B", "91350203M0001QAY9B", "9135020077604965", "9135020077604965IA"]
)
def test_invalid_credit_codes(value):
    with pytest.raises(PydanticCustomError) as info:
        validate_credit_code(value)
    assert info.value.type == "invalid_credit_code"


@pytest.mark.parametrize(
    ("raw", "stored", "court"),
    [
        ("(2020)甘0602执1234号", "（2020）甘0602执1234号", "甘0602"),
        ("（2020）甘0602执1234号", "（2020）甘0602执1234号", "甘0602"),
        ("（2015）甘0602执字第12号", "（2015）甘0602执12号", "甘0602"),
        ("（2021）粤07执恢3号", "（2021）粤07执恢3号", "粤07"),
        ("（2021）最高法执监3号", "（2021）最高法执监3号", "最高法"),
    ],
)
def test_case_numbers(raw, stored, court):
    assert normalize_case_number(raw) == stored
    assert parse_case_number(raw).court_code == court


@pytest.mark.parametrize(
    "raw",
    ["2020甘0602执1234号", "（2020）甘0602民初1234号", "（20）甘0602执1号", "（1800）甘执1号"],
)
def test_bad_case_numbers(raw):
    with pytest.raises(PydanticCustomError) as info:
        parse_case_number(raw)
    assert info.value.type == "invalid_case_number"


def test_masking_keeps_region_birth_year_and_last_four():
    assert mask_id_number("342301196404053224") == "3423011964****3224"
