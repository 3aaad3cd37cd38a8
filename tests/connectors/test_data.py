"""The mock data is deterministic, realistic in shape and carries valid identifiers."""

from __future__ import annotations

from connectors.mock import data
from connectors.mock.ids import (
    credit_check_char,
    id_check_digit,
    is_valid_vin,
    looks_like_plate,
    vin_check_digit,
)


def test_check_digits_match_the_worked_examples() -> None:
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("44052418800101001") == "4"
    assert credit_check_char("91350200776049653") == "A"
    assert credit_check_char("91350500798359476") == "R"
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert is_valid_vin("1M8GDM9AXKP042788")
    assert not is_valid_vin("1M8GDM9A1KP042788")


def test_same_identifier_same_assets() -> None:
    for n in range(50):
        identifier = data.make_person_id(n)
        assert data.assets_for(identifier) == data.assets_for(identifier.lower())


def test_synthetic_identifiers_are_valid() -> None:
    for n in range(50):
        person, company = data.make_person_id(n), data.make_credit_code(n)
        assert person[-1] == id_check_digit(person[:17])
        assert company[-1] == credit_check_char(company[:17])


def test_a_realistic_share_owns_nothing() -> None:
    subjects = [data.assets_for(data.make_person_id(n)) for n in range(500)]
    share = sum(not s.owns_anything for s in subjects) / len(subjects)
    assert 0.3 < share < 0.55


def test_vehicles_have_valid_vins_and_plates() -> None:
    cars = [v for n in range(300) for v in data.vehicles(data.make_person_id(n))]
    assert cars
    assert all(is_valid_vin(v.vin) and looks_like_plate(v.plate) and v.value > 0 for v in cars)


def test_companies_have_registration_facts() -> None:
    code = data.make_credit_code(7)
    assets = data.assets_for(code)
    assert assets.kind == "organization"
    assert assets.company is not None
    assert assets.company.credit_code == code


def test_find_identifier() -> None:
    nothing = data.find_identifier(lambda a: not a.owns_anything)
    assert not data.assets_for(nothing).owns_anything
    rich = data.find_identifier(lambda a: bool(a.vehicles and a.stakes))
    assert data.assets_for(rich).vehicles
