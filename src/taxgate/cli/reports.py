"""``taxgate report`` and ``taxgate transparency``: the oversight report and the public,
differentially private one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taxgate.cli.base import Config, app, out, workspace


@app.command()
def report(
    out_file: Annotated[
        Path,
        typer.Option(
            "--out",
            help="File to write: HTML, or JSON when it ends in .json (per agency: requests, "
            "disclosures, distinct taxpayers, general purposes; 6103(p)(3)(C)).",
        ),
    ],
    year: Annotated[
        int | None,
        typer.Option(help="One calendar year (UTC): the yearly report to Congress."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only requests received on or after this date (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only requests received on or before this date (YYYY-MM-DD).")
    ] = None,
    config: Config = None,
) -> None:
    """The oversight report over a period (default: everything processed); with --year, the
    yearly report to Congress (6103(p)(3)(C)) for that calendar year."""
    from taxgate.reports.oversight import Period
    from taxgate.services.oversight import write_congress_json, write_report

    period = Period.of(year=year, since=since, until=until)
    if out_file.suffix.casefold() == ".json":
        n = write_congress_json(workspace(config), out_file, period, year)
        out.print(f"wrote {out_file} ({n:,} requests, period: {period.label})")
        return
    n = write_report(workspace(config), out_file, period)
    out.print(f"wrote {out_file} ({n:,} decisions, period: {period.label})")


@app.command()
def transparency(
    year: Annotated[int, typer.Option(help="The calendar year (UTC) to report on.")],
    epsilon: Annotated[
        float, typer.Option(help="Privacy loss this release spends of the year's budget.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="FILE.html, or FILE.json for the machine-readable form.")
    ],
    config: Config = None,
) -> None:
    """The public transparency report: yearly counts released with differential privacy.

    Refused (nothing written, nothing spent) when the release would overspend the year's
    privacy budget (transparency.yaml; default epsilon 1.0 per calendar year).
    """
    from taxgate.transparency import release

    rep = release(workspace(config), year, epsilon, out_file)
    r = rep.release
    out.print(
        f"wrote {out_file}: {rep.year} counts, {r.mechanism} noise, epsilon {r.epsilon:g}, "
        f"95% of counts within ±{r.accuracy:.1f}; budget {rep.year_budget:g}, "
        f"{rep.remaining:g} left for {rep.year}"
    )
