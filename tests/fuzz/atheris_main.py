"""Coverage-guided fuzzing of one target with atheris (libFuzzer): ``make fuzz``.

    python -m tests.fuzz.atheris_main TARGET [libFuzzer options, e.g. -max_total_time=60]

An input that escapes as anything but a TaxgateError is written by libFuzzer under
``tests/fuzz/corpus/TARGET/crash-*``; commit it (renamed to say what it is) once fixed, and
``tests/fuzz/test_fuzz.py`` replays it in every ``make test``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    import atheris

    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m tests.fuzz.atheris_main TARGET [libFuzzer options]")
    name = sys.argv.pop(1)
    with atheris.instrument_imports(include=["taxgate"]):
        from tests.fuzz.targets import TARGETS, run
    if name not in TARGETS:
        raise SystemExit(f"unknown target {name!r}; one of: {', '.join(sorted(TARGETS))}")
    kept = Path(__file__).parent / "corpus" / name
    kept.mkdir(parents=True, exist_ok=True)
    work = Path(".fuzz") / name  # libFuzzer grows this one; the kept corpus only seeds it
    work.mkdir(parents=True, exist_ok=True)
    args = [*sys.argv, f"-artifact_prefix={kept}/"]
    if not any(not a.startswith("-") for a in sys.argv[1:]):
        args += [str(work), str(kept)]

    def one(data: bytes) -> None:
        run(name, data)

    atheris.Setup(args, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
