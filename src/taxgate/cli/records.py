"""``taxgate records load`` and ``taxgate model train``: the taxpayer records and the
matching model trained on them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from taxgate.cli.base import app, err, out, progress, workspace
from taxgate.errors import UsageError

records_app = typer.Typer(no_args_is_help=True, help="The taxpayer records.")
app.add_typer(records_app, name="records")
model_app = typer.Typer(no_args_is_help=True, help="The matching model.")
app.add_typer(model_app, name="model")


@records_app.command("load")
def records_load(file: Path) -> None:
    """Load (or replace) the taxpayer records from a CSV or Parquet file."""
    from taxgate.services.records import load

    t0 = time.perf_counter()
    stats = load(workspace(), file)
    out.print(
        f"loaded {stats.rows:,} rows for {stats.taxpayers:,} taxpayers "
        f"(tax years {', '.join(map(str, stats.years))}) in {time.perf_counter() - t0:.1f} s"
    )


@model_app.command("train")
def model_train(
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    seed: Annotated[int, typer.Option(help="Random seed (training is reproducible).")] = 42,
) -> None:
    """Train the matching model on the loaded records (also done on first use)."""
    from taxgate import pipeline

    if engine not in ("duckdb", "spark"):
        raise UsageError("`--engine` must be duckdb or spark")
    ws = workspace()
    t0 = time.perf_counter()
    with progress("model") as update:
        trained = pipeline.train(ws, engine=engine, seed=seed, progress=update)
    for note in trained.notes:
        err.print(f"note: {note}")
    out.print(f"trained model {trained.version} in {time.perf_counter() - t0:.1f} s")
