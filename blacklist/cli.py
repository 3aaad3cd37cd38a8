"""Commands the blacklist domain adds to the ``enforcement`` CLI, for operators:
``enforcement lists expire`` ends due fixed terms now (the nightly job, run by hand), and
``enforcement webhooks retry`` delivers now to subscriptions waiting out a backoff."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

T = TypeVar("T")

lists_app = typer.Typer(help="Defaulter lists and consumption restrictions.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhook subscriptions of credit systems.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the CLI."""
    app.add_typer(lists_app, name="lists")
    app.add_typer(webhooks_app, name="webhooks")


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` with the database and the jobs backend configured, then close them (no
    composition root is imported: the CLI registers us, not the other way round). In
    the embedded mode (no Redis) the jobs it caused (webhook deliveries) run before exit."""
    import blacklist.jobs  # noqa: F401  (registers the delivery job the runner may run)
    from enforcement.core import db, jobs
    from enforcement.core.settings import get_settings

    async def run() -> T:
        settings = get_settings()
        db.configure(settings.database_url)
        backend = await jobs.configure(settings.redis_url, settings.queue_name)
        try:
            result = await work()
            if isinstance(backend, jobs.InProcessRunner):
                await backend.run_due()
            return result
        finally:
            await backend.close()
            await db.dispose()

    return asyncio.run(run())


@lists_app.command("expire")
def expire_command() -> None:
    """End every fixed-term listing whose end date has come, now (reason ``expired``)."""
    from blacklist.jobs import expire_listings

    expired = _run(lambda: expire_listings({}))
    typer.echo(f"expired {expired} listing(s)")


@webhooks_app.command("retry")
def retry_command(
    subscription: Annotated[
        int | None, typer.Option("--id", help="one subscription; default: every active one")
    ] = None,
) -> None:
    """Deliver now to active subscriptions, skipping the backoff wait (disabled ones need
    ``POST /webhooks/{id}/enable``)."""
    from blacklist import webhooks

    async def work() -> list[tuple[int, int]]:
        return await webhooks.retry_now(subscription)

    results = _run(work)
    for subscription_id, sent in results:
        typer.echo(f"subscription {subscription_id}: {sent} event(s) delivered")
    if not results:
        typer.echo("no active subscription")
