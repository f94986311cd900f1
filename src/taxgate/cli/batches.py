"""``taxgate check`` and ``taxgate process``: a batch judged by the rules, or run through
the whole pipeline."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taxgate.cli.base import Config, app, err, out, progress, workspace
from taxgate.errors import UsageError


@app.command()
def check(
    folder: Path,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Decisions JSONL (default: stdout).")
    ] = None,
    rulebook: Annotated[Path | None, typer.Option(help="Another rulebook version.")] = None,
    config: Config = None,
) -> None:
    """Judge a batch by the rules only (nothing is stored or disclosed)."""
    from taxgate.pipeline import check_batch

    decisions = check_batch(workspace(config, rulebook=rulebook), folder)
    lines = "".join(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in decisions)
    if out_file is None:
        sys.stdout.write(lines)
    else:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(lines, encoding="utf-8")
        counts = Counter(d["outcome"] for d in decisions)
        err.print(
            f"{len(decisions):,} requests: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
        )


@app.command()
def process(
    folder: Path,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for decisions, response, report.")],
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    config: Config = None,
) -> None:
    """Run a batch through the whole pipeline."""
    from taxgate import pipeline

    if engine not in ("duckdb", "spark"):
        raise UsageError("`--engine` must be duckdb or spark")
    ws = workspace(config)
    t0 = time.perf_counter()
    with progress("process") as update:
        result = pipeline.process(ws, folder, out_dir, engine=engine, progress=update)
    for notice in result.notices:
        err.print(f"warning: {notice}")
    _summary(result.report.totals, result.reasons)
    out.print(
        f"batch {result.batch_id}: {result.new:,} decided, {result.repeated:,} returned "
        f"from earlier decisions (R-DUPLICATE), {result.disclosed:,} disclosed, "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    out.print(f"outputs in {out_dir} (report: {out_dir / 'report.html'})")
    if result.held:
        out.print(
            f"response.jsonl held: {result.held}; run `taxgate audit cosign`, then this "
            "command again (the stored decisions are answered, nothing is decided twice)"
        )


def _summary(statuses: Mapping[str, int], codes: Mapping[str, int]) -> None:
    """The batch's decisions by final status and by reason code (counted as they were made:
    a large batch's file is not read back for this)."""
    table = Table("final status", "requests", title="Requests by final status")
    for k, v in sorted(statuses.items(), key=lambda kv: (-kv[1], kv[0])):
        if v:
            table.add_row(k, f"{v:,}")
    out.print(table)
    if codes:
        t2 = Table("code", "requests", title="Reasons by code")
        for k, v in sorted(codes.items()):
            t2.add_row(k, f"{v:,}")
        out.print(t2)
