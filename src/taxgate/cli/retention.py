"""``taxgate retention purge``: purge personal values older than the configured periods."""

from __future__ import annotations

from typing import Annotated

import typer

from taxgate.cli.base import Config, app, out, workspace

retention_app = typer.Typer(
    no_args_is_help=True,
    help="Retention: personal values purged after the periods in retention.yaml.",
)
app.add_typer(retention_app, name="retention")


@retention_app.command("purge")
def retention_purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be purged; change nothing.")
    ] = False,
    config: Config = None,
) -> None:
    """Purge the values of requests and disclosures older than their periods (logged).

    The record of disclosures, the decisions and the audit log stay; the log verifies
    afterwards. A request still waiting for a reviewer is kept whole.
    """
    from taxgate.services import retention

    ws = workspace(config=config)
    cfg = retention.load_config(ws.config)
    result = retention.purge(ws, dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    out.print(
        f"{verb} the values of {result.requests:,} requests received before "
        f"{result.requests_cutoff} ({cfg.request_values_days} days) and of "
        f"{result.disclosures:,} disclosures made before {result.disclosures_cutoff} "
        f"({cfg.disclosed_values_days} days)"
    )
    if not dry_run and result.entries:
        out.print(f"logged as entries {', '.join(str(i) for i in result.entries)}")
