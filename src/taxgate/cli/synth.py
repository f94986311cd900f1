"""``taxgate synth records|batch``: a synthetic world (keeps no state)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from taxgate.cli.base import STATELESS_NOTE, app, out, progress
from taxgate.errors import UsageError

synth_app = typer.Typer(no_args_is_help=True, help="Make a synthetic world.")
app.add_typer(synth_app, name="synth")


@synth_app.command("records", epilog=STATELESS_NOTE)
def synth_records(
    taxpayers: Annotated[int, typer.Option(min=1, help="How many taxpayers.")],
    out_file: Annotated[Path, typer.Option("--out", help="FILE.csv or FILE.parquet")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Write synthetic taxpayer records (one row per taxpayer per tax year 2020-2024)."""
    from taxgate.synth.records import write_records

    if out_file.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"`--out` must end in .csv or .parquet, not `{out_file.suffix}`")
    t0 = time.perf_counter()
    with progress("synth records") as update:
        stats = write_records(
            out_file, taxpayers, seed, progress=lambda rows: update("rows", rows, taxpayers * 5)
        )
    out.print(
        f"wrote {stats.rows:,} rows for {stats.taxpayers:,} taxpayers to {out_file} "
        f"in {time.perf_counter() - t0:.1f} s"
    )


@synth_app.command("batch", epilog=STATELESS_NOTE)
def synth_batch(
    records: Annotated[Path, typer.Option(help="Records file the batch is drawn from.")],
    requests: Annotated[int, typer.Option(min=1, help="How many requests.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Batch folder to write.")],
    truth: Annotated[Path, typer.Option(help="Ground-truth CSV to write.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Write a synthetic request batch (unsigned) and its ground truth."""
    from taxgate.synth.batch import write_batch

    stats = write_batch(records, out_dir, truth, requests, seed)
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(stats.by_kind.items()))
    out.print(f"wrote {stats.requests:,} requests to {out_dir} ({kinds})")
