"""Shared test helpers: subjects the mock registries know, cases on them."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.mock import data
from tests.factories import create_case, person


def rich_person() -> str:
    """An ID the mock registries report a deposit with money, a vehicle and equity for."""
    return data.find_identifier(
        lambda a: (
            any(acc.balance > 10_000_00 and not acc.encumbered_by for acc in a.bank_accounts)
            and bool(a.vehicles)
            and all(v.value > 0 for v in a.vehicles)
        )
    )


def poor_person() -> str:
    """An ID no registry knows anything about."""
    return data.find_identifier(lambda a: not a.owns_anything)


async def case_for(
    client: httpx.AsyncClient, headers: dict[str, str], id_number: str, **overrides: Any
) -> dict[str, Any]:
    """Open a case of 甘0602 against the person with ``id_number``."""
    return await create_case(
        client, headers, respondents=[person(name="王五", id_number=id_number)], **overrides
    )


def expected_assets(id_number: str) -> int:
    """How many assets the mocks hold for an ID (one per securities account)."""
    owned = data.assets_for(id_number)
    return (
        len(owned.bank_accounts)
        + len(owned.vehicles)
        + len(owned.securities_accounts)
        + len(owned.stakes)
    )


async def bulk_cases(n: int, *, start: int = 0, court: str = "甘0602") -> list[str]:
    """Insert ``n`` open cases with one person respondent each (Core, fast); returns the IDs."""
    import datetime as dt

    from sqlalchemy import insert, select

    from enforcement.cases.models import Case, CaseRespondent, Party
    from enforcement.core import clock, db

    now = clock.now()
    ids = [data.make_person_id(start + i) for i in range(n)]
    async with db.unit_of_work() as s:
        applicant = Party(kind="organization", name="某银行", credit_code=data.make_credit_code(1),
                          created_at=now)  # fmt: skip
        s.add(applicant)
        await s.flush()
        await s.execute(
            insert(Party),
            [{"kind": "person", "name": f"被执行人{i}", "id_number": pid, "created_at": now}
             for i, pid in enumerate(ids)],
        )  # fmt: skip
        party_ids = dict(
            (
                await s.execute(select(Party.id_number, Party.id).where(Party.id_number.in_(ids)))
            ).all()
        )
        await s.execute(
            insert(Case),
            [{"case_number": f"（2026）{court}执{900000 + start + i}号", "court_code": court,
              "filed_on": dt.date(2026, 1, 5), "basis": "判决", "principal": 100_000_00,
              "fee": 1_000_00, "outstanding": 100_000_00, "fee_paid": 0,
              "deadline": dt.date(2026, 7, 5), "status": "open", "applicant_id": applicant.id,
              "created_at": now, "updated_at": now}
             for i in range(n)],
        )  # fmt: skip
        case_ids = dict(
            (
                await s.execute(select(Case.case_number, Case.id).where(Case.court_code == court))
            ).all()
        )
        await s.execute(
            insert(CaseRespondent),
            [{"case_id": case_ids[f"（2026）{court}执{900000 + start + i}号"],
              "party_id": party_ids[pid], "position": 0}
             for i, pid in enumerate(ids)],
        )  # fmt: skip
    return ids
