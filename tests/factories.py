"""Plain factory functions for tests: valid identifiers and case payloads."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import httpx

from enforcement.core.identifiers import make_credit_code, make_resident_id

_sequence = itertools.count(1)


def person_id(birth: dt.date = dt.date(1980, 5, 17), region: str = "620602") -> str:
    """A fresh valid resident ID (distinct per call)."""
    return make_resident_id(region, birth, next(_sequence) % 1000)


def credit_code() -> str:
    """A fresh valid unified social credit code."""
    n = next(_sequence)
    return make_credit_code(f"91620602{n:09d}")


def person(name: str = "张三", **overrides: Any) -> dict[str, Any]:
    return {"kind": "person", "name": name, "id_number": person_id(), **overrides}


def organization(name: str = "甘肃某某建材有限公司", **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "organization",
        "name": name,
        "credit_code": credit_code(),
        "legal_representative": "李四",
        **overrides,
    }


def case_payload(**overrides: Any) -> dict[str, Any]:
    """A valid case of court 甘0602 with one person respondent."""
    n = next(_sequence)
    payload: dict[str, Any] = {
        "case_number": f"（2026）甘0602执{n}号",
        "filed_on": "2026-03-02",
        "principal": "100000.00",
        "basis": f"（2025）甘0602民初{n}号",
        "applicant": organization("某某银行股份有限公司武威分行"),
        "respondents": [person()],
    }
    payload.update(overrides)
    return payload


async def create_case(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """Open a case through the API and return its JSON."""
    response = await client.post("/cases", json=case_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
