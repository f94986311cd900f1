"""The whole pipeline through the command line: the demo, and a larger world.

Each run is a separate `taxgate` process, so peak memory is that process's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_WRAP = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(r.returncode)"
)


def _run(*args: str | Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (GB) of that one taxgate process, and its stdout."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAP, sys.executable, "-m", "taxgate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"taxgate {args[:2]} failed: {proc.stderr[-1500:]}")
    kb = int(proc.stderr.rsplit("MAXRSS", 1)[1].split()[0])
    return seconds, kb / 1024**2, proc.stdout


def _world(work: Path, taxpayers: int, requests: int) -> dict[str, Any]:
    wd = work / "work"
    rec, batch, key = work / "records.parquet", work / "batch", work / "official.key"
    figures: dict[str, Any] = {}
    figures["synth_records_s"], _, _ = _run(
        "synth", "records", "--taxpayers", taxpayers, "--seed", 1, "--out", rec, "--workdir", wd
    )
    figures["synth_batch_s"], _, _ = _run(
        "synth",
        "batch",
        "--records",
        rec,
        "--requests",
        requests,
        "--seed",
        1,
        "--out",
        batch,
        "--truth",
        work / "truth.csv",
        "--workdir",
        wd,
    )
    figures["records_load_s"], _, _ = _run("records", "load", rec, "--workdir", wd)
    _run("keygen", "--out", key, "--workdir", wd)
    m = json.loads((batch / "manifest.json").read_text())
    _run(
        "agencies",
        "add",
        m["agency"],
        "--official",
        m["official"]["name"],
        "--title",
        m["official"]["title"],
        "--public-key",
        f"{key}.pub",
        "--workdir",
        wd,
    )
    _run("sign", batch, "--key", key, "--workdir", wd)
    figures["train_s"], figures["train_gb"], _ = _run("model", "train", "--workdir", wd)
    figures["process_s"], figures["process_gb"], _ = _run(
        "process", batch, "--out", work / "out", "--workdir", wd
    )
    figures["rerun_s"], _, _ = _run("process", batch, "--out", work / "out2", "--workdir", wd)
    figures["verify_s"], _, _ = _run("audit", "verify", "--workdir", wd)
    return figures


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    _run(
        "demo",
        "--workdir",
        work / "demo",
        *(["--taxpayers", "5000", "--requests", "500"] if quick else []),
    )
    demo_s = time.perf_counter() - t0
    out.append(
        {
            "name": "taxgate demo (50k taxpayers, 5k requests), end to end"
            if not quick
            else "taxgate demo (5k taxpayers, 500 requests)",
            "value": demo_s,
            "unit": "s",
            "baseline": None,
            "baseline_value": None,
            "target": "< 60 s" if not quick else None,
            "note": "includes world generation and training",
        }
    )
    sizes = [(20_000, 2_000)] if quick else [(200_000, 20_000), (1_000_000, 100_000)]
    for taxpayers, requests in sizes:
        f = _world(work / f"w{taxpayers}", taxpayers, requests)
        label = f"{taxpayers:,} taxpayers, {requests:,} requests"
        out += [
            {
                "name": f"process a batch ({label})",
                "value": f["process_s"],
                "unit": "s",
                "baseline": "rerun of the same batch (all R-DUPLICATE)",
                "baseline_value": f["rerun_s"],
                "target": None,
                "note": f"peak memory {f['process_gb']:.2f} GB",
            },
            {
                "name": f"requests per second through the pipeline ({label})",
                "value": requests / f["process_s"],
                "unit": "requests/s",
                "baseline": None,
                "baseline_value": None,
                "target": None,
                "note": "intake, rules, match, disclose, audit, report",
            },
            {
                "name": f"model training ({label})",
                "value": f["train_s"],
                "unit": "s",
                "baseline": None,
                "baseline_value": None,
                "target": None,
                "note": "",
            },
            {
                "name": f"audit verify after processing ({label})",
                "value": f["verify_s"],
                "unit": "s",
                "baseline": None,
                "baseline_value": None,
                "target": None,
                "note": "",
            },
        ]
    return out
