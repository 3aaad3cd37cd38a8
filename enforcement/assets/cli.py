"""Commands the assets domain adds to the ``enforcement`` CLI: ``enforcement sweep``."""

from __future__ import annotations

import asyncio

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the CLI."""
    app.command("sweep")(sweep_command)


def sweep_command(
    concurrency: int = typer.Option(50, min=1, help="subjects queried at once"),
) -> None:
    """Run (or resume) today's sweep now in this process, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from enforcement import domains
    from enforcement.assets import sweep, views
    from enforcement.core import db
    from enforcement.core.settings import get_settings

    async def run() -> None:
        settings = get_settings()
        db.configure(settings.database_url)
        await domains.startup(settings)
        try:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            ) as progress:
                task = progress.add_task("sweep", total=None)

                def show(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                sweep_id = await sweep.run_now(concurrency=concurrency, on_progress=show)
            async with db.unit_of_work() as session:
                summary = views.sweep_read(await sweep.get_sweep(session, sweep_id))
            typer.echo(summary.model_dump_json(indent=2))
        finally:
            await domains.shutdown()
            await db.dispose()

    asyncio.run(run())
