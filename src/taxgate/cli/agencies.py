"""``taxgate agencies add|revoke|list|safeguards|status``: requesting agencies, their
officials and their 6103(p)(4) safeguard status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taxgate.cli.base import Config, app, out, workspace
from taxgate.errors import UsageError

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


@agencies_app.command("safeguards")
def agencies_safeguards(
    code: str,
    report_date: Annotated[
        str, typer.Option(help="Date of the agency's last safeguard report (YYYY-MM-DD).")
    ],
    open_findings: Annotated[
        int, typer.Option(min=0, help="Findings of the last safeguard review still open.")
    ],
    corrective_plan: Annotated[
        str, typer.Option(help="yes | no: a corrective action plan covers the open findings.")
    ],
) -> None:
    """Register an agency's safeguard status (6103(p)(4)); logged. R-SAFEGUARDS holds (or
    refuses) disclosures to an agency whose report is out of date or whose open findings have
    no corrective action plan."""
    from taxgate.services.safeguards import parse_report_date, register

    plan = {"yes": True, "no": False}.get(corrective_plan.strip().casefold())
    if plan is None:
        raise UsageError("`--corrective-plan` must be yes or no")
    when = parse_report_date(report_date)
    new = register(workspace(), code, when, open_findings, plan)
    out.print(
        f"{'registered' if new else 'updated'} the safeguard status of {code}: last report "
        f"{when.isoformat()}, {open_findings} open finding(s), corrective plan: "
        f"{'yes' if plan else 'no'}"
    )


@agencies_app.command("status")
def agencies_status() -> None:
    """The agencies' registered safeguard status (6103(p)(4)), and whether it holds their
    disclosures under the rulebook in use."""
    from datetime import UTC, date, datetime

    from taxgate.rules.safeguards import SafeguardStatus, safeguard_problem
    from taxgate.services.safeguards import listing

    ws = workspace()
    table = Table("agency", "last report", "open findings", "corrective plan", "holds", "since")
    today = datetime.now(UTC).date()
    for line in listing(ws):
        st = SafeguardStatus(
            date.fromisoformat(line.last_report), line.open_findings, line.corrective_plan
        )
        problem = safeguard_problem(st, today, ws.rulebook.safeguards)
        table.add_row(
            line.agency,
            line.last_report,
            str(line.open_findings),
            "yes" if line.corrective_plan else "no",
            ws.rulebook.safeguards.action if problem else "no",
            line.updated_at,
        )
    out.print(table)


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
