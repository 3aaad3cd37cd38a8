"""Events the case domain publishes (other domains subscribe through the composition root)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CaseSatisfied:
    """Everything owed on the case is paid: its debtors leave the lists."""

    case_id: int
    court_code: str


@dataclass(frozen=True)
class CaseClosed:
    """The case was closed in a mode other than payment (终本, 终结, …)."""

    case_id: int
    court_code: str
    mode: str
