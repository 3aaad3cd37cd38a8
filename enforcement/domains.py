"""The list of domains, read by the composition roots (app, worker, cli, alembic).

Adding a domain means adding it here: its router, its jobs module, its wiring (event
handlers, stats providers, start-up) and its CLI commands. Nothing else imports this module.
"""

from __future__ import annotations

from types import ModuleType

import typer
from fastapi import APIRouter

import auction.api
import auction.cli
import auction.jobs
import auction.models
import auction.wiring
import blacklist.api
import blacklist.cli
import blacklist.jobs
import blacklist.models
import blacklist.wiring
import enforcement.assets.api
import enforcement.assets.cli
import enforcement.assets.jobs
import enforcement.assets.models
import enforcement.assets.wiring
import enforcement.cases.api
import enforcement.cases.jobs
import enforcement.cases.models
import enforcement.core.api
import enforcement.core.models
from enforcement.core.settings import Settings

MODEL_MODULES: tuple[ModuleType, ...] = (
    enforcement.core.models,
    enforcement.cases.models,
    enforcement.assets.models,
    auction.models,
    blacklist.models,
)
JOB_MODULES: tuple[ModuleType, ...] = (
    enforcement.cases.jobs,
    enforcement.assets.jobs,
    auction.jobs,
    blacklist.jobs,
)
WIRING: tuple[ModuleType, ...] = (enforcement.assets.wiring, auction.wiring, blacklist.wiring)
CLI_MODULES: tuple[ModuleType, ...] = (enforcement.assets.cli, auction.cli, blacklist.cli)


def routers() -> list[APIRouter]:
    """Every domain's router, in the order the docs page shows them."""
    found = [
        enforcement.core.api.public_router,
        enforcement.core.api.router,
        enforcement.cases.api.router,
        enforcement.assets.api.router,
        auction.api.router,
        blacklist.api.router,
    ]
    for module in (enforcement.assets.api, auction.api, blacklist.api):
        extra = getattr(module, "public_router", None)
        if extra is not None:
            found.append(extra)
    return found


_wired = False


def wire() -> None:
    """Subscribe every domain's handlers once per process."""
    global _wired
    if _wired:
        return
    for module in WIRING:
        module.wire()
    _wired = True


async def startup(settings: Settings) -> None:
    """Start every domain's process-wide resources."""
    wire()
    for module in WIRING:
        await module.startup(settings)


async def shutdown() -> None:
    """Stop them, in reverse order."""
    for module in reversed(WIRING):
        await module.shutdown()


def register_commands(app: typer.Typer) -> None:
    """Let every domain add its CLI commands."""
    for module in CLI_MODULES:
        module.register(app)
