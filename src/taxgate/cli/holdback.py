"""``taxgate holdback add|remove|list``: the 6103(i)(6) holdback."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from taxgate.cli.base import app, out, workspace

holdback_app = typer.Typer(
    no_args_is_help=True, help="The 6103(i)(6) holdback: taxpayers about whom nothing goes out."
)
app.add_typer(holdback_app, name="holdback")


@holdback_app.command("add")
def holdback_add(
    tin: str,
    reason: Annotated[str, typer.Option(help="informant | tax-investigation")],
) -> None:
    """Hold a taxpayer back: requests matching them are never disclosed (read as no match)."""
    from taxgate.services import holdback

    new = holdback.add(workspace(), tin, reason)
    out.print("held back" if new else "already held back: reason updated")


@holdback_app.command("remove")
def holdback_remove(tin: str) -> None:
    """End a holdback."""
    from taxgate.services import holdback

    holdback.remove(workspace(), tin)
    out.print("holdback removed")


@holdback_app.command("list")
def holdback_list() -> None:
    """The taxpayers held back (from the store; the log keeps only salted hashes)."""
    from taxgate.services import holdback

    table = Table("tin", "reason", "since", "by")
    for h in holdback.listing(workspace()):
        table.add_row(h.tin, h.reason, h.added_at, h.added_by)
    out.print(table)
