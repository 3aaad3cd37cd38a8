"""Commands the auction domain adds to the ``enforcement`` CLI."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the CLI."""
