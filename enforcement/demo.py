"""Demo data: a few dozen realistic cases of one basic court, with valid identifiers, a few
paid (partly or in full) and a few respondents on the defaulter and consumption-restriction
lists, so the feed, the export, screening and the public search have something to show.

Deterministic (a seeded generator) and idempotent: case numbers already present are skipped,
so running ``enforcement demo`` twice changes nothing. Also prints fresh demo tokens.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from blacklist import service as listings
from blacklist.schemas import ListingCreate
from enforcement.cases import service as cases
from enforcement.cases.models import Case
from enforcement.cases.schemas import CaseCreate
from enforcement.core import audit, auth, db
from enforcement.core.identifiers import make_credit_code, make_resident_id

COURT = "甘0602"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超"]
_COMPANIES = ["建材", "商贸", "农业科技", "物流", "房地产开发", "机械制造", "餐饮管理", "电子"]
_REGIONS = ["620602", "620102", "620103", "620502", "110105", "440106"]
_APPLICANTS = [
    ("某某农村商业银行股份有限公司", "91620600MA71X0001"),
    ("甘肃某某小额贷款有限公司", "91620600MA71X0002"),
]


def _person(rng: random.Random) -> dict[str, object]:
    birth = dt.date(rng.randint(1960, 1998), rng.randint(1, 12), rng.randint(1, 28))
    name = rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2))))
    return {
        "kind": "person",
        "name": name,
        "id_number": make_resident_id(rng.choice(_REGIONS), birth, rng.randint(1, 999)),
        "birth_date": birth.isoformat(),
    }


def _organization(rng: random.Random, index: int) -> dict[str, object]:
    representative = _person(rng)
    return {
        "kind": "organization",
        "name": f"武威市{rng.choice(_COMPANIES)}有限公司（{index}）",
        "credit_code": make_credit_code(f"9162060{rng.randint(0, 9)}MA{index:08d}"[:17]),
        "legal_representative": representative["name"],
        "legal_representative_id_number": representative["id_number"],
    }


def demo_cases(count: int, seed: int = 20261126) -> list[CaseCreate]:
    """The demo cases, the same every time."""
    rng = random.Random(seed)
    result = []
    for index in range(1, count + 1):
        applicant_name, applicant_body = _APPLICANTS[index % len(_APPLICANTS)]
        respondents = [_person(rng) if rng.random() < 0.7 else _organization(rng, index)]
        if rng.random() < 0.2:
            respondents.append(_person(rng))
        filed = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 300))
        principal = rng.choice((8_600, 45_000, 120_000, 380_000, 1_250_000, 6_800_000))
        result.append(
            CaseCreate.model_validate(
                {
                    "case_number": f"（2026）{COURT}执{1000 + index}号",
                    "filed_on": filed.isoformat(),
                    "principal": f"{principal + rng.randint(0, 99) / 100:.2f}",
                    "basis": f"（2025）{COURT}民初{2000 + index}号",
                    "applicant": {
                        "kind": "organization",
                        "name": applicant_name,
                        "credit_code": make_credit_code(applicant_body),
                    },
                    "respondents": respondents,
                }
            )
        )
    return result


def _demo_listing(case: Case, number: int) -> ListingCreate:
    """Every other listed respondent is a defaulter (evading enforcement, 2 years); the rest
    are only restricted in consumption."""
    dishonest = number % 10 == 1
    return ListingCreate(
        case_id=case.id,
        party_id=case.respondents[0].party_id,
        kind="dishonest" if dishonest else "restricted",
        grounds=["evades_enforcement"] if dishonest else [],
        years=2 if dishonest else None,
    )


async def load_demo(count: int = 36) -> int:
    """Create the demo cases that are missing, pay a few off, print demo tokens."""
    created = 0
    actor = audit.Actor("demo-loader", "admin")
    audit.current_actor.set(actor)
    admin = auth.Principal(0, "demo-loader", "admin", None)
    for number, data in enumerate(demo_cases(count)):
        async with db.unit_of_work() as session:
            exists = await session.scalar(
                select(Case.id).where(Case.case_number == data.case_number)
            )
            if exists is not None:
                continue
            case = await cases.create_case(session, admin, data)
            created += 1
            if number % 6 == 0:
                await cases.record_payment(session, case.id, case.principal // 4, source="debtor")
            if number % 12 == 0:
                await cases.record_payment(
                    session, case.id, case.outstanding, source="debtor", note="paid off"
                )
            elif number % 5 == 1:
                await listings.create_listing(session, admin, _demo_listing(case, number))
    async with db.unit_of_work() as session:
        _, admin_token = await auth.create_token(session, role="admin", name="demo-admin")
        _, officer_token = await auth.create_token(
            session, role="officer", name="demo-officer", court_code=COURT
        )
        _, credit_token = await auth.create_token(session, role="credit", name="demo-credit")
    print(f"demo admin token:   {admin_token}")
    print(f"demo officer token: {officer_token}  (court {COURT})")
    print(f"demo credit token:  {credit_token}")
    return created
