"""Synthetic world speed: taxpayer record rows per second to Parquet (with peak memory), and
requests per second for a batch the size of the 2025 exchange (1.28 million requests).

Each measured run happens in a subprocess so that its peak RSS is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROWS_FULL = 10_000_000
ROWS_QUICK = 200_000
REQUESTS_FULL = 1_280_000
REQUESTS_QUICK = 20_000
ROWS_PER_TAXPAYER = 4.58  # mean filed years per taxpayer in the generated world

_CHILD = r"""
import json, resource, sys, time
from datetime import date
from pathlib import Path
from taxgate.synth import write_batch, write_records
what, work, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
if what == "records":
    s = write_records(work / "world.parquet", n, seed=1)
    out = {"count": s.rows}
else:
    s = write_batch(work / "world.parquet", work / "batch", work / "truth.csv", n, seed=2,
                    today=date(2026, 11, 25))
    out = {"count": s.requests}
out["seconds"] = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_seconds"] = usage.ru_utime + usage.ru_stime
out["peak_mb"] = usage.ru_maxrss / 1024
print(json.dumps(out))
"""


def _child(what: str, work: Path, n: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, what, str(work), str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(work: Path, quick: bool) -> list[dict[str, object]]:
    """Figures: record rows/s and peak memory for a world, requests/s for a batch."""
    work.mkdir(parents=True, exist_ok=True)
    rows = ROWS_QUICK if quick else ROWS_FULL
    n_req = REQUESTS_QUICK if quick else REQUESTS_FULL
    rec = _child("records", work, round(rows / ROWS_PER_TAXPAYER))
    bat = _child("batch", work, n_req)
    label = f"{rec['count'] / 1e6:.2f}M rows"
    return [
        {
            "topic": "synth",
            "name": "record rows per second (Parquet)",
            "value": rec["count"] / rec["seconds"],
            "unit": "rows/s",
            "baseline": None,
            "baseline_value": None,
            "target": "10M rows <= 120 s (>= 83,333 rows/s)",
            "note": f"{label} in {rec['seconds']:.1f} s wall, {rec['cpu_seconds']:.1f} s CPU "
            "on this machine",
        },
        {
            "topic": "synth",
            "name": "peak memory writing records",
            "value": rec["peak_mb"],
            "unit": "MB",
            "baseline": None,
            "baseline_value": None,
            "target": "< 4096 MB",
            "note": f"peak RSS of the subprocess writing {label}",
        },
        {
            "topic": "synth",
            "name": "requests per second (batch with truth)",
            "value": bat["count"] / bat["seconds"],
            "unit": "requests/s",
            "target": "1.28M requests well under 60 s",
            # earlier row-by-row version: 140 s wall / ~80 s CPU for 1.28M requests
            "baseline": "row-by-row drafts (before the column-wise rewrite): 140 s",
            "baseline_value": 1_280_000 / 140,
            "note": f"{int(bat['count']):,} requests in {bat['seconds']:.1f} s wall, "
            f"{bat['cpu_seconds']:.1f} s CPU (peak {bat['peak_mb']:.0f} MB) "
            f"against the {label} world",
        },
    ]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for fig in run(Path(tmp), quick="--full" not in sys.argv):
            print(fig)
