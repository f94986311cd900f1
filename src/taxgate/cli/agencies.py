"""``taxgate agencies add|revoke|list``: requesting agencies and their officials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taxgate.cli.base import Config, app, out, workspace

agencies_app = typer.Typer(no_args_is_help=True, help="Requesting agencies and their officials.")
app.add_typer(agencies_app, name="agencies")


@agencies_app.command("add")
def agencies_add(
    code: str,
    official: Annotated[str, typer.Option(help="The authorized official's name.")],
    title: Annotated[str, typer.Option(help="The official's title.")],
    public_key: Annotated[Path, typer.Option(help="The official's KEY.pub.")],
    authority: Annotated[
        str,
        typer.Option(
            help="The official's authority under 6103(i)(2)(A): "
            "agency-head | inspector-general | attorney-general | deputy-attorney-general | "
            "associate-attorney-general | assistant-attorney-general | fbi-director | "
            "dea-administrator | us-attorney | special-prosecutor | strike-force-attorney."
        ),
    ],
    config: Config = None,
) -> None:
    """Register an official authorized to request for an agency (creates the agency if new).

    Only an official the statute lists may be registered; the rulebook says which
    authorities may request, and the Justice-only ones only for a Justice agency.
    """
    from taxgate.intake.signing import load_public_key
    from taxgate.services.officials import check_registration, register_official

    ws = workspace(config)
    check_registration(ws, code, authority)  # before the key is read, as nothing is stored
    key = load_public_key(public_key)
    got = register_official(ws, code, official, title, key, authority)
    out.print(
        f"{'created agency' if got.agency_created else 'agency'} {code}: "
        f"official registered, key {got.key_id[:16]}"
    )


@agencies_app.command("revoke")
def agencies_revoke(
    code: str,
    official: Annotated[str, typer.Option(help="The official whose authority ends.")],
) -> None:
    """Revoke an official's authority to request (their batches then fail R-REQUESTER)."""
    from taxgate.services.officials import revoke_official

    n = revoke_official(workspace(), code, official)
    out.print(f"revoked {n} key(s) of the official at {code}")


@agencies_app.command("list")
def agencies_list() -> None:
    """List agencies and their registered officials."""
    from taxgate.services.officials import list_officials

    table = Table("agency", "official", "title", "authority", "key", "active")
    for o in list_officials(workspace()):
        table.add_row(
            o.agency,
            o.name,
            o.title,
            o.authority or "(none)",
            o.key_id[:16],
            "yes" if o.active else "no",
        )
    out.print(table)
