"""Matching at the 2025 exchange's size, with both baselines beside it in the same run.

1,280,000 requests (realistic, then the same requests corrupted) against ~10M taxpayer-year
rows, taxgate beside plain Splink and the exact-key baseline; the adversarial corpus again.
Too long for ``make bench`` (about 15 minutes on 2 cores): ``python bench/run.py --only
matching_big``. ``TAXGATE_BENCH_TAXPAYERS`` sets a smaller world when the machine is shared.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_matching as bm  # noqa: E402

REQUESTS = 1_280_000


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    taxpayers = int(os.environ.get("TAXGATE_BENCH_TAXPAYERS", bm.BIG_TAXPAYERS))
    requests = 2_000 if quick else int(os.environ.get("TAXGATE_BENCH_REQUESTS", REQUESTS))
    if quick:
        taxpayers = 20_000
    res = bm.measure(work, taxpayers, [requests], quick, requests)
    (work / "matching_big_raw.json").write_text(json.dumps(res, indent=1, default=str))
    figs = bm.figures(res, requests)
    for f in figs:
        f["topic"] = "matching_big"
    return figs
