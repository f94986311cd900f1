"""``taxgate users add|list|disable|rotate``: users of the service and their roles."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from taxgate.cli.base import app, err, out, workspace
from taxgate.services import user_admin

users_app = typer.Typer(no_args_is_help=True, help="Users of the service and their roles.")
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="agency, officer, reviewer, auditor or admin.")],
    agency: Annotated[str | None, typer.Option(help="The agency code (agency users only).")] = None,
) -> None:
    """Add a user; prints its token once (only its hash is stored)."""
    token = user_admin.create(workspace(), name, role, agency)
    err.print(f"user {name.strip()} ({role}) added; its token, shown this once:")
    sys.stdout.write(token + "\n")


@users_app.command("list")
def users_list() -> None:
    """The service's users: name, role, agency and whether they may sign in."""
    rows = user_admin.listing(workspace())
    if not rows:
        out.print("no users yet: add one with `taxgate users add NAME --role ROLE`")
        return
    table = Table("user", "role", "agency", "active", "added (UTC)")
    for u in rows:
        table.add_row(u.name, u.role, u.agency, "yes" if u.active else "no", u.created_at[:19])
    out.print(table)


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Disable a user: its token stops working at once."""
    changed = user_admin.disable(workspace(), name)
    out.print(f"user {name.strip()} {'disabled' if changed else 'was already disabled'}")


@users_app.command("rotate")
def users_rotate(name: str) -> None:
    """Give a user a new token (the old one stops working); prints it once."""
    token = user_admin.rotate(workspace(), name)
    err.print(f"user {name.strip()}: new token, shown this once:")
    sys.stdout.write(token + "\n")
