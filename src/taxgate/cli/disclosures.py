"""``taxgate disclosures`` and ``taxgate reaudit``: the record of requests and disclosures, and past
disclosures judged again under another rulebook."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from taxgate.cli.base import Config, app, err, out, workspace
from taxgate.errors import UsageError


@app.command()
def disclosures(
    tin: Annotated[str | None, typer.Option(help="Every disclosure about this taxpayer.")] = None,
    request: Annotated[str | None, typer.Option(help="The record of this request.")] = None,
    agency: Annotated[str | None, typer.Option(help="Requests from this agency.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="Requests with this status: REJECTED, NO_MATCH, AMBIGUOUS, PENDING_REVIEW, "
            "WITHHELD, DISCLOSED (or RECEIVED: not decided yet)."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Requests received on or after this date (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Requests received on or before this date (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, oldest first.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first (paging).")] = 0,
) -> None:
    """The record of requests and disclosures (6103(p)(3)(A)), as JSON lines: every request
    received, refused ones too, with its status and what went out; with no option, all of
    them a page at a time (--limit, --offset)."""
    from taxgate.reports.oversight import Period
    from taxgate.services.accounting import accounting, check_status

    if tin is not None and request is not None:
        raise UsageError("say at most one of `--tin` or `--request`")
    wanted = check_status(status)
    period = Period.of(since=since, until=until)
    rows = accounting(
        workspace(),
        tin=tin,
        request_id=request,
        agency=agency,
        status=wanted,
        period=period,
        limit=limit + 1,
        offset=offset,
    )
    for row in rows[:limit]:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    if not rows:
        err.print("no request matches" if offset == 0 else "no more requests")
    elif len(rows) > limit:
        err.print(
            f"showing {offset + 1:,}-{offset + limit:,}; more with `--offset {offset + limit}`"
        )


@app.command()
def reaudit(
    rulebook: Annotated[
        str,
        typer.Option(
            help="The rulebook to judge past disclosures by: a shipped one by name "
            "(e.g. `strict`) or a YAML file."
        ),
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the findings as JSON.")
    ] = None,
    config: Config = None,
) -> None:
    """Judge every past disclosure again under another rulebook."""
    from dataclasses import asdict

    from taxgate.rules.rulebook import shipped_rulebook
    from taxgate.services.reaudit import reaudit as run

    result = run(workspace(config), shipped_rulebook(rulebook))
    if result.refused:
        out.print(f"disclosures rulebook {result.rulebook_version} would have refused:")
    for f in result.refused:
        why = "; ".join(f.why) or ", ".join(f.codes)
        out.print(
            f"{f.request_id} ({f.agency}, batch {f.batch_id}, decided under "
            f"{f.original_rulebook}): {why}",
            markup=False,
            highlight=False,
        )
    out.print(
        f"{len(result.refused):,} of {result.disclosed:,} past disclosures would have been "
        f"refused under {result.rulebook_version} (logged as audit entry {result.audit_index})"
    )
    if out_file is not None:
        doc = {
            "rulebook_version": result.rulebook_version,
            "disclosed": result.disclosed,
            "refused": [asdict(f) for f in result.refused],
            "audit_index": result.audit_index,
        }
        out_file.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
