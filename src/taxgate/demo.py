"""``taxgate demo``: the whole pipeline on a synthetic world, with the embedded stores."""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from taxgate import pipeline
from taxgate.intake.batch import sign_folder
from taxgate.intake.signing import generate_key, load_private_key, load_public_key
from taxgate.services import records
from taxgate.services.officials import register_official
from taxgate.storage import repo
from taxgate.synth.batch import write_batch
from taxgate.synth.records import write_records
from taxgate.workspace import Workspace


def run_demo(
    ws: Workspace,
    *,
    taxpayers: int,
    requests: int,
    seed: int,
    console: Console,
    progress: Callable[[str], AbstractContextManager[Any]],
) -> dict[str, Any]:
    """Make a world, register a demo agency, sign and process a batch, print a summary."""
    t0 = time.perf_counter()
    world = ws.paths.root / "demo-world"
    world.mkdir(parents=True, exist_ok=True)
    records_file = world / "records.parquet"
    batch_dir = world / f"batch-{seed}"
    truth = world / "truth.csv"
    with progress("demo") as update:
        write_records(
            records_file, taxpayers, seed, progress=lambda n: update("records", n, taxpayers * 5)
        )
        write_batch(records_file, batch_dir, truth, requests, seed)
        records.load(ws, records_file)
    manifest = json.loads((batch_dir / "manifest.json").read_text(encoding="utf-8"))
    key_file = world / "official.key"
    generate_key(key_file)
    register_official(
        ws,
        manifest["agency"],
        manifest["official"]["name"],
        manifest["official"]["title"],
        load_public_key(key_file.with_name("official.key.pub")),
        "agency-head",
    )
    sign_folder(batch_dir, load_private_key(key_file))
    out_dir = world / "out"
    with progress("process") as update:
        result = pipeline.process(ws, batch_dir, out_dir, progress=update)
    seconds = time.perf_counter() - t0
    decisions = result.decisions
    with ws.transaction() as (s, _):
        tins = {
            rid: d.matched_tin
            for rid, d in repo.stored_decisions(
                s, manifest["agency"], [d["request_id"] for d in decisions]
            ).items()
        }
    score = _score(decisions, tins, truth)
    status = Counter(d["status"] for d in decisions)
    codes = Counter(r["code"] for d in decisions for r in d["reasons"])
    table = Table("final status", "requests", title=f"Batch {result.batch_id}")
    for k, v in status.most_common():
        table.add_row(k, f"{v:,}")
    console.print(table)
    t2 = Table("code", "requests", title="Reasons by code")
    for k, v in sorted(codes.items()):
        t2.add_row(k, f"{v:,}")
    console.print(t2)
    console.print(
        f"against the ground truth: {score['wrong_disclosures']} wrong disclosures, "
        f"{score['disclosed_right']:,} of {score['disclosable']:,} disclosable requests disclosed, "
        f"{score['defects_refused']:,} of {score['defects']:,} planted defects refused"
    )
    console.print(f"report: {out_dir / 'report.html'}")
    console.print(f"demo finished in {seconds:.1f} s (work folder {ws.paths.root})")
    return {"seconds": seconds, **score}


def _score(
    decisions: Iterable[dict[str, Any]], tins: dict[str, str], truth: Path
) -> dict[str, int]:
    with truth.open(encoding="utf-8", newline="") as f:
        rows = {r["request_id"]: r for r in csv.DictReader(f)}
    by_id = {d["request_id"]: d for d in decisions}
    wrong = right = disclosable = defects = refused = 0
    for rid, t in rows.items():
        d = by_id.get(rid)
        if d is None:
            continue
        if t["expected_status"] == "DISCLOSED":
            disclosable += 1
        if t["expected_status"] == "REJECTED":
            defects += 1
            refused += d["status"] == "REJECTED"
        if d["status"] == "DISCLOSED":
            if t["expected_status"] == "DISCLOSED" and tins.get(rid) == t["tin"]:
                right += 1
            else:
                wrong += 1
    return {
        "wrong_disclosures": wrong,
        "disclosed_right": right,
        "disclosable": disclosable,
        "defects": defects,
        "defects_refused": refused,
    }


__all__ = ["run_demo", "Path"]
