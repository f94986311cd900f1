"""Run every benchmark under bench/ and write bench/results.json and bench/RESULTS.md.

Each module ``bench/bench_<topic>.py`` has ``run(work: Path, quick: bool) -> list[dict]``;
each dict is one figure with its baseline beside it, measured in the same run.

    python bench/run.py            # the full run (minutes)
    python bench/run.py --quick    # a smoke run
    python bench/run.py --only rules,audit
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: topics too long for ``make bench``: run only when named (``--only replay``)
EXPLICIT = frozenset({"replay", "matching_big"})


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = round(pages / 1024**3, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = mod
    spec.loader.exec_module(mod)
    return mod


def fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:,.1f}"
        return f"{v:.4g}"
    return str(v)


def markdown(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Last written {doc['date']} on {m['cpu'] or 'unknown CPU'}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, Python {m['python']} ({'quick' if doc['quick'] else 'full'} run"
        f"{' of ' + ', '.join(doc['only']) if doc.get('only') else ''}, {doc['seconds']:.0f} s). "
        "Written by `make bench` (bench/run.py); every figure is in "
        "bench/results.json. Baselines are measured in the same run as their figure. A run "
        "with `--only` re-measures its topics and keeps the others; each section says when "
        "it was measured.",
        "",
    ]
    topics: dict[str, list[dict[str, Any]]] = {}
    for f in doc["figures"]:
        topics.setdefault(f["topic"], []).append(f)
    for topic, figs in topics.items():
        when = figs[0].get("measured")
        lines += [
            f"## {topic}",
            "",
            *([f"Measured {when}.", ""] if when else []),
            "| figure | value | unit | baseline | baseline value | target | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in figs:
            lines.append(
                "| "
                + " | ".join(
                    [
                        f["name"],
                        fmt(f.get("value")),
                        f.get("unit", ""),
                        f.get("baseline") or "",
                        fmt(f.get("baseline_value")),
                        f.get("target") or "",
                        (f.get("note") or "").replace("|", "/"),
                    ]
                )
                + " |"
            )
        lines.append("")
        notes = HERE / "notes" / f"{topic}.md"  # hand-written findings kept beside the figures
        if notes.exists():
            lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    if doc["errors"]:
        lines += ["## Errors", ""] + [f"- {e}" for e in doc["errors"]] + [""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    only = {t.strip() for t in args.only.split(",") if t.strip()}
    work = HERE / "work"
    figures: list[dict[str, Any]] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    for path in sorted(HERE.glob("bench_*.py")):
        topic = path.stem.removeprefix("bench_")
        if (only and topic not in only) or (not only and topic in EXPLICIT):
            continue
        print(f"== {topic}", flush=True)
        scratch = work / topic
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            figs = load(path).run(scratch, args.quick)
        except Exception as e:  # a failing bench is reported, the others still run
            traceback.print_exc()
            errors.append(f"{topic}: {type(e).__name__}: {e}")
            continue
        measured = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        for f in figs:
            f.setdefault("topic", topic)
            f["measured"] = measured
            print(f"   {f['name']}: {fmt(f.get('value'))} {f.get('unit', '')}", flush=True)
        figures.extend(figs)
    doc = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "quick": args.quick,
        "only": sorted(only),
        "seconds": time.perf_counter() - t0,
        "figures": figures,
        "errors": errors,
    }
    out = Path(args.out)
    if only and (out / "results.json").exists():  # a partial run updates its topics only
        old = json.loads((out / "results.json").read_text())
        keep = [f for f in old.get("figures", []) if f.get("topic") not in only]
        doc["figures"] = keep + figures
    (out / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    (out / "RESULTS.md").write_text(markdown(doc))
    print(f"wrote {out / 'RESULTS.md'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
