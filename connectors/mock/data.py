"""Deterministic mock data: the same identifier always owns the same assets.

Every registry seeds a ``random.Random`` from a hash of ``registry|identifier``, so the four
mocks agree with themselves across restarts and tests can ask ``assets_for(identifier)``
what a subject owns before querying. About 40 % of subjects own nothing anywhere; some
assets already carry another court's freeze (``encumbered_by``), so our freeze is queued.
Money is integer fen; a securities price is a decimal string, as the depository sends it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from connectors.mock.ids import (
    CREDIT_CHARSET,
    PLATE_LETTERS,
    PLATE_PROVINCES,
    credit_check_char,
    id_check_digit,
    looks_like_person_id,
    vin_check_digit,
)

OTHER_COURT = "J9900"  # the court that "froze first" on encumbered assets
NOTHING_SHARE = 0.4

_BANKS = (
    ("102", "中国工商银行"),
    ("103", "中国农业银行"),
    ("104", "中国银行"),
    ("105", "中国建设银行"),
    ("301", "交通银行"),
    ("308", "招商银行"),
)
_CARS = (
    ("LSV", "大众", "朗逸", 12_000_000),
    ("LFV", "一汽-大众", "迈腾", 20_000_000),
    ("LGB", "东风日产", "轩逸", 11_000_000),
    ("LVS", "长安福特", "福克斯", 12_500_000),
    ("LBV", "华晨宝马", "5系", 45_000_000),
    ("LRW", "特斯拉", "Model 3", 25_000_000),
)
_STOCKS = (
    ("SH", "600519", "贵州茅台", "1450.00"),
    ("SH", "601318", "中国平安", "48.20"),
    ("SH", "600036", "招商银行", "35.60"),
    ("SZ", "000858", "五粮液", "130.50"),
    ("SZ", "300750", "宁德时代", "210.80"),
    ("SZ", "000001", "平安银行", "10.95"),
    ("SH", "601988", "中国银行", "4.30"),
)
_COMPANY_WORDS = ("华信", "恒泰", "瑞丰", "鼎盛", "嘉禾", "远航", "明达", "金桥", "宏图", "安源")
_COMPANY_KINDS = ("科技有限公司", "贸易有限公司", "建设工程有限公司", "投资管理有限公司")
_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超"


@dataclass(frozen=True)
class BankAccount:
    """A deposit account as the bank channel knows it."""

    bank_code: str
    bank_name: str
    account_no: str
    account_type: str
    balance: int
    encumbered_by: str | None = None
    encumbered_amount: int = 0


@dataclass(frozen=True)
class Vehicle:
    """A motor vehicle registered to the subject."""

    plate: str
    vin: str
    brand: str
    model: str
    registered_on: dt.date
    value: int


@dataclass(frozen=True)
class Holding:
    """One line of a securities account."""

    code: str
    name: str
    shares: int
    price: str

    @property
    def value(self) -> int:
        """Market value in fen."""
        return int(Decimal(self.price) * self.shares * 100)


@dataclass(frozen=True)
class SecuritiesAccount:
    """A depository account (frozen as a whole)."""

    account_id: str
    market: str
    holdings: tuple[Holding, ...]
    encumbered_by: str | None = None

    @property
    def value(self) -> int:
        """Market value of all holdings in fen."""
        return sum(h.value for h in self.holdings)


@dataclass(frozen=True)
class Stake:
    """An equity stake of the subject in a company."""

    stake_id: str
    company_name: str
    company_code: str
    subscribed: int
    percent: str
    encumbered_by: str | None = None


@dataclass(frozen=True)
class Company:
    """A company's registration facts."""

    name: str
    credit_code: str
    legal_representative: str
    registered_capital: int
    established_on: dt.date
    state: str


@dataclass(frozen=True)
class MockAssets:
    """Everything the four mock registries hold for one identifier."""

    identifier: str
    kind: str
    bank_accounts: tuple[BankAccount, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    securities_accounts: tuple[SecuritiesAccount, ...] = ()
    stakes: tuple[Stake, ...] = ()
    company: Company | None = None

    @property
    def owns_anything(self) -> bool:
        """True when any registry holds an asset for the subject."""
        return bool(self.bank_accounts or self.vehicles or self.securities_accounts or self.stakes)


def _rng(registry: str, identifier: str) -> random.Random:
    digest = hashlib.sha256(f"{registry}|{identifier.upper()}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12].upper()


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _owns(registry: str, identifier: str, person: float, organization: float) -> bool:
    if _rng("nothing", identifier).random() < NOTHING_SHARE:
        return False
    share = person if looks_like_person_id(identifier) else organization
    return _rng(f"{registry}-owns", identifier).random() < share


def _encumbrance(rng: random.Random) -> str | None:
    return OTHER_COURT if rng.random() < 0.1 else None


def bank_accounts(identifier: str) -> tuple[BankAccount, ...]:
    """Deposit accounts at one to three banks; some empty, some frozen by another court."""
    if not _owns("bank", identifier, 0.9, 1.0):
        return ()
    rng = _rng("bank", identifier)
    accounts = []
    for code, name in rng.sample(_BANKS, rng.randint(1, 3)):
        balance = 0 if rng.random() < 0.15 else int(rng.lognormvariate(11, 2)) * 100
        prior = _encumbrance(rng) if balance else None
        accounts.append(
            BankAccount(
                bank_code=code,
                bank_name=name,
                account_no="6222" + code + _digits(rng, 12),
                account_type=rng.choice(("活期", "定期")),
                balance=balance,
                encumbered_by=prior,
                encumbered_amount=balance // 2 if prior else 0,
            )
        )
    return tuple(accounts)


def make_vin(rng: random.Random, wmi: str) -> str:
    """A VIN with a valid check digit (position 9)."""
    body = wmi + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(5))
    tail = rng.choice("ABCDEFGHJKLMNPRSTVWXY123456789") + rng.choice("ABCDE") + _digits(rng, 6)
    draft = body + "0" + tail
    return body + vin_check_digit(draft) + tail


def vehicles(identifier: str) -> tuple[Vehicle, ...]:
    """Zero to two vehicles with plate, VIN, model, first registration and a valuation."""
    if not _owns("vehicle", identifier, 0.45, 0.5):
        return ()
    rng = _rng("vehicle", identifier)
    cars = []
    for _ in range(rng.randint(1, 2)):
        wmi, brand, model, new_price = rng.choice(_CARS)
        registered = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randint(0, 15 * 365))
        age = max(0, 2025 - registered.year)
        plate = (
            rng.choice(PLATE_PROVINCES)
            + rng.choice(PLATE_LETTERS)
            + rng.choice("0123456789ABCDEFGHJK")
            + _digits(rng, 4)
        )
        value = int(new_price * 0.85**age) // 100_000 * 100_000  # whole thousands of yuan
        cars.append(Vehicle(plate, make_vin(rng, wmi), brand, model, registered, value))
    return tuple(cars)


def securities_accounts(identifier: str) -> tuple[SecuritiesAccount, ...]:
    """One or two depository accounts, each with several holdings (so pagination matters)."""
    if not _owns("securities", identifier, 0.3, 0.3):
        return ()
    rng = _rng("securities", identifier)
    accounts = []
    for market in rng.sample(("SH", "SZ"), rng.randint(1, 2)):
        pool = [s for s in _STOCKS if s[0] == market]
        holdings = tuple(
            Holding(code, name, rng.randint(1, 50) * 100, price)
            for _, code, name, price in rng.sample(pool, rng.randint(1, len(pool)))
        )
        prefix = "A" if market == "SH" else "0"
        accounts.append(
            SecuritiesAccount(prefix + _digits(rng, 9), market, holdings, _encumbrance(rng))
        )
    return tuple(accounts)


def make_person_id(n: int) -> str:
    """The n-th synthetic resident ID (valid check digit), for tests and demos."""
    rng = random.Random(n)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 50 * 365))
    first17 = "110101" + born.strftime("%Y%m%d") + f"{rng.randint(0, 999):03d}"
    return first17 + id_check_digit(first17)


def make_credit_code(n: int) -> str:
    """The n-th synthetic unified social credit code (valid check character)."""
    rng = random.Random(f"credit-{n}")
    first17 = "91" + "110105" + "".join(rng.choice(CREDIT_CHARSET) for _ in range(9))
    return first17 + credit_check_char(first17)


def _company(rng: random.Random, credit_code: str) -> Company:
    name = "北京" + rng.choice(_COMPANY_WORDS) + rng.choice(_COMPANY_KINDS)
    return Company(
        name=name,
        credit_code=credit_code,
        legal_representative=rng.choice(_SURNAMES) + rng.choice(_GIVEN),
        registered_capital=rng.choice((100, 500, 1000, 5000)) * 10_000 * 100,
        established_on=dt.date(1995, 1, 1) + dt.timedelta(days=rng.randint(0, 28 * 365)),
        state=rng.choice(("存续", "存续", "存续", "在业", "吊销")),
    )


def stakes(identifier: str) -> tuple[Stake, ...]:
    """Equity stakes held by the subject (a person or a company)."""
    if not _owns("business", identifier, 0.3, 0.5):
        return ()
    rng = _rng("business", identifier)
    result = []
    for _ in range(rng.randint(1, 3)):
        company = _company(rng, make_credit_code(rng.randint(0, 10**9)))
        percent = Decimal(rng.randint(100, 10_000)) / 100
        result.append(
            Stake(
                stake_id=f"EQ{_digest(identifier + company.credit_code)}",
                company_name=company.name,
                company_code=company.credit_code,
                subscribed=int(company.registered_capital * percent / 100),
                percent=f"{percent:.2f}",
                encumbered_by=_encumbrance(rng),
            )
        )
    return tuple(result)


def company(credit_code: str) -> Company | None:
    """Registration facts for a company identifier (None for a person)."""
    if looks_like_person_id(credit_code):
        return None
    return _company(_rng("company", credit_code), credit_code.upper())


def assets_for(identifier: str) -> MockAssets:
    """Everything the mock registries hold for this identifier (what tests should expect)."""
    identifier = identifier.upper()
    return MockAssets(
        identifier=identifier,
        kind="person" if looks_like_person_id(identifier) else "organization",
        bank_accounts=bank_accounts(identifier),
        vehicles=vehicles(identifier),
        securities_accounts=securities_accounts(identifier),
        stakes=stakes(identifier),
        company=company(identifier),
    )


def find_identifier(
    predicate: Callable[[MockAssets], bool], *, kind: str = "person", start: int = 0
) -> str:
    """The first synthetic identifier (from ``start``) whose assets satisfy ``predicate``.

    Example: ``find_identifier(lambda a: not a.owns_anything)`` or
    ``find_identifier(lambda a: any(acc.balance for acc in a.bank_accounts))``.
    """
    make = make_person_id if kind == "person" else make_credit_code
    for n in range(start, start + 100_000):
        identifier = make(n)
        if predicate(assets_for(identifier)):
            return identifier
    raise LookupError("no synthetic identifier matches")
