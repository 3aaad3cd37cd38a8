"""Asking one registry about one subject, shared by officer inquiries and the sweep.

An asynchronous registry (the bank) is submitted to and peeked at once; if it is still
working, the caller stores the handle and re-enqueues a poll job with a delay, so no worker
slot waits on a bank. The sweep first polls a few times with short backoff (``ask_all``'s
``poll_delays``): the bank usually answers within a second, and a deferred job per subject
cost more than the wait. Failures come back as values, classified once by
``connectors.errors``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connectors.base import Connector, PendingQuery, QueryResult, Subject
from connectors.errors import ConnectorError, TransientError
from enforcement.cases.models import Party


@dataclass(frozen=True)
class Failure:
    """A registry that could not answer: ``transient`` ones may be retried later."""

    message: str
    transient: bool


Outcome = QueryResult | PendingQuery | Failure


def subject_of(party: Party) -> Subject:
    """The connector's view of a respondent."""
    return Subject(
        kind=party.kind,  # type: ignore[arg-type]
        name=party.name,
        id_number=party.id_number,
        credit_code=party.credit_code,
    )


def failure(exc: ConnectorError) -> Failure:
    """Record a connector error as data (message and whether a later retry may help)."""
    return Failure(f"{type(exc).__name__}: {exc.message}", isinstance(exc, TransientError))


async def ask(connector: Connector, subject: Subject) -> Outcome:
    """Query a synchronous registry, or submit to an asynchronous one and peek once."""
    try:
        if not connector.asynchronous:
            return await connector.query(subject)
        pending = await connector.submit_query(subject)
        if isinstance(pending, QueryResult):
            return pending
        return (await connector.fetch_query(pending)) or pending
    except ConnectorError as exc:
        return failure(exc)


async def poll(connector: Connector, pending: PendingQuery) -> QueryResult | None | Failure:
    """One poll of an asynchronous inquiry; a transient failure counts as 'not yet'."""
    try:
        return await connector.fetch_query(pending)
    except TransientError:
        return None
    except ConnectorError as exc:
        return failure(exc)


async def ask_and_wait(
    connector: Connector, subject: Subject, poll_delays: Sequence[float] = ()
) -> Outcome:
    """``ask``, then poll a pending answer after each of ``poll_delays`` until it comes."""
    outcome = await ask(connector, subject)
    for delay in poll_delays:
        if not isinstance(outcome, PendingQuery):
            break
        await asyncio.sleep(delay)
        outcome = (await poll(connector, outcome)) or outcome
    return outcome


async def ask_all(
    connectors: Mapping[str, Connector], subject: Subject, poll_delays: Sequence[float] = ()
) -> dict[str, Outcome]:
    """Ask every registry at once; each answers (or fails) for itself."""
    names = list(connectors)
    outcomes = await asyncio.gather(
        *(ask_and_wait(connectors[n], subject, poll_delays) for n in names)
    )
    return dict(zip(names, outcomes, strict=True))
