"""Matching benchmark: taxgate's matcher beside plain Splink and an exact-key join.

The world and the batch come from the synthetic generator (``taxgate.synth``):
``write_records`` for the taxpayer-year rows, ``write_batch`` for the requests and their
ground truth. Defect requests are dropped (the rules refuse them before matching), so the
batch is drawn ~1/0.7 times the wanted size to leave that many valid requests. Each method
runs in its own subprocess, so peak memory is that process's ``ru_maxrss``:

- ``taxgate``: the trained model (trained once per world in its own subprocess, timed),
  record versions cached by training, as in production;
- ``plain_splink``: Splink with a plain configuration from its comparison library
  (exact/Jaro-Winkler on first and last name, exact DOB and ZIP; no standardisation, no
  term frequencies), u by random sampling, m by EM blocked on ZIP + first two letters of
  the surname and on DOB + first initial; the best candidate at p >= 0.99 is the match;
- ``exact_key``: normalised last name + first initial + ZIP + house number, disclosed
  when exactly one taxpayer has the key.

Three worlds, every method on each:

- ``realistic``: the generator's batch (its realistic noise), 4% of addresses PO boxes;
- ``corrupt``: the same requests corrupted heavily (:data:`taxgate.synth.noise.CORRUPTION`:
  typos in names, street and city, transposed house digits, DOB typos, swapped fields,
  missing values, PO box and unit spellings); "covered" counts the true matches whose
  state, ZIP and house number were left intact;
- ``adversarial``: the corpus of tests/matching/adversarial (near-misses that must never
  disclose, and positive controls).

taxgate's figures include REVIEW (a human decides, with the candidate) beside MATCH, and
the observed precision per probability band of the candidates every element of which
agreed at an automatic level (the calibration the rulebook's ``identity.calibration``
records).

Run directly: ``python bench/bench_matching.py WORK [taxpayers requests]``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

TOPIC = "matching"
METHODS = ("taxgate", "plain_splink", "exact_key")
VALID_SHARE = 0.70  # share of a synthetic batch that is not a planted defect
TODAY = date(2026, 3, 1)
SEED = 7
BIG_TAXPAYERS = 2_200_000  # ~10M taxpayer-year rows
TAXGATE_MIN_WEIGHT = -10.0  # pairs below this weight cannot change a decision
BASELINE_MAX_REQUESTS = 100_000  # full run: baselines only up to here (time budget)


def world(work: Path, taxpayers: int, requests: int, seed: int = SEED) -> tuple[Path, Path]:
    """Records and valid requests (with ``kind``, ``true_tin`` and ``years``) as Parquet."""
    from taxgate.synth import write_batch, write_records

    work.mkdir(parents=True, exist_ok=True)
    records = work / f"records_{taxpayers}.parquet"
    if not records.exists():
        raw = work / f"records_{taxpayers}_raw.parquet"
        write_records(raw, taxpayers, seed)
        po_boxes(raw, records)
        raw.unlink()
    reqs = work / f"requests_{requests}.parquet"
    if not reqs.exists():
        batch, truth = work / f"batch_{requests}", work / f"truth_{requests}.csv"
        n = max(60, round(requests / VALID_SHARE))
        write_batch(records, batch, truth, n, seed, today=TODAY)
        valid_requests(batch, truth, reqs)
    return records, reqs


def po_boxes(raw: Path, out: Path, share: int = 25) -> Path:
    """Copy of the records where one address in ``share`` is a PO box (its number kept)."""
    duckdb.connect().execute(f"""
      COPY (
        SELECT * REPLACE (
          CASE WHEN hash(address_line1 || zip) % {share} = 0
               THEN 'PO Box ' || split_part(address_line1, ' ', 1) ELSE address_line1 END
            AS address_line1,
          CASE WHEN hash(address_line1 || zip) % {share} = 0 THEN '' ELSE address_line2 END
            AS address_line2)
        FROM read_parquet('{raw}')
      ) TO '{out}' (FORMAT parquet)""")
    return out


def corrupt_requests(reqs: Path, out: Path, seed: int = SEED) -> Path:
    """The requests corrupted (:func:`taxgate.synth.noise.corrupt`), with their tags and
    ``key_agrees`` (state, ZIP and house number untouched)."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    from taxgate.synth.noise import ADDRESS_KEY_TAGS, corrupt

    if out.exists():
        return out
    table = pq.read_table(reqs)
    cols = {c: table.column(c).to_pylist() for c in table.column_names}
    rnd = random.Random(seed)
    tags, agrees = [], []
    fields = ("first_name", "middle_name", "last_name", "suffix", "date_of_birth",
              "address_line1", "address_line2", "city", "state", "zip")  # fmt: skip
    for i in range(table.num_rows):
        row = {f: cols[f][i] or "" for f in fields}
        applied = corrupt(row, rnd)
        for f in fields:
            cols[f][i] = row[f]
        tags.append(";".join(applied))
        agrees.append(not ADDRESS_KEY_TAGS & set(applied))
    data = {c: pa.array(v, table.schema.field(c).type) for c, v in cols.items()}
    data["corruption"] = pa.array(tags, pa.string())
    data["key_agrees"] = pa.array(agrees, pa.bool_())
    pq.write_table(pa.table(data), out)
    return out


def adversarial_world(work: Path) -> tuple[Path, Path]:
    """The corpus of tests/matching/adversarial as records and requests (Parquet)."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    here = Path(__file__).resolve().parents[1] / "tests" / "matching"
    sys.path.insert(0, str(here))
    from world import Person, write_records  # type: ignore[import-not-found]

    work.mkdir(parents=True, exist_ok=True)
    records, reqs = work / "records_adversarial.parquet", work / "requests_adversarial.parquet"
    with (here / "adversarial" / "people.csv").open(encoding="utf-8", newline="") as f:
        people = [
            Person(r["tin"], r["first"], r["middle"], r["last"], r["suffix"], r["dob"],
                   ((2020, (r["line1"], r["line2"], r["city"], r["state"], r["zip"])),))
            for r in csv.DictReader(f)
        ]  # fmt: skip
    write_records(people, records)
    with (here / "adversarial" / "cases.csv").open(encoding="utf-8", newline="") as f:
        cases = list(csv.DictReader(f))
    from taxgate.types import Request

    fields = [f for f in Request.__slots__ if f != "row"]
    data: dict[str, list[Any]] = {f: [] for f in fields}
    data |= {"kind": [], "true_tin": [], "years": [], "class": []}
    for c in cases:
        for f in fields:
            data[f].append(c.get(f, "") if f != "request_id" else c["case_id"])
        data["kind"].append("hard_negative" if c["expect"] == "never" else "taxpayer")
        data["true_tin"].append(c["tin"] or None)
        data["years"].append([2022])
        data["class"].append(c["class"])
    data["tax_periods"] = ["2022"] * len(cases)
    table = pa.table({k: pa.array(v) for k, v in data.items()})
    pq.write_table(table, reqs)
    return records, reqs


def valid_requests(batch: Path, truth: Path, out: Path) -> Path:
    """The batch's non-defect requests with ``kind``, ``true_tin`` and ``years`` (Parquet)."""
    years = (
        "list_sort(list_distinct(flatten(list_transform(string_split(q.tax_periods, ';'),"
        " lambda p: CASE WHEN contains(p, '-') THEN range(CAST(split_part(p, '-', 1) AS INT),"
        " CAST(split_part(p, '-', 2) AS INT) + 1) ELSE [CAST(trim(p) AS BIGINT)] END))))"
    )
    duckdb.connect().execute(f"""
      COPY (
        SELECT q.*, t.kind, NULLIF(t.tin, '') AS true_tin, CAST({years} AS INT[]) AS years
        FROM read_csv('{batch / "requests.csv"}', all_varchar = true) q
        JOIN read_csv('{truth}', all_varchar = true) t USING (request_id)
        WHERE t.kind <> 'defect'
        ORDER BY q.request_id  -- the corruption draws follow the rows: one order every run
      ) TO '{out}' (FORMAT parquet)""")
    return out


def _score(con: duckdb.DuckDBPyConnection, reqs: Path, decided: Path) -> dict[str, Any]:
    """Automatic precision and recall; REVIEW share and coverage (MATCH or REVIEW with the
    true taxpayer) over the true matches whose address keys agree (all of them when the
    world is not corrupted)."""
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{reqs}')").fetchall()}
    agrees = "r.key_agrees" if "key_agrees" in have else "true"
    row = con.execute(f"""
      SELECT
        count(*) AS valid,
        count(*) FILTER (WHERE d.verdict = 'MATCH') AS disclosed,
        count(*) FILTER (WHERE d.verdict = 'MATCH' AND d.tin = r.true_tin) AS correct,
        count(*) FILTER (WHERE r.kind IN ('taxpayer', 'jr_sr')) AS findable,
        count(*) FILTER (WHERE d.verdict = 'MATCH' AND r.kind = 'hard_negative') AS wrong_hn,
        count(*) FILTER (WHERE d.verdict = 'MATCH' AND r.kind = 'non_taxpayer') AS wrong_nt,
        count(*) FILTER (WHERE d.verdict = 'REVIEW') AS review,
        count(*) FILTER (WHERE d.verdict = 'REVIEW' AND d.tin = r.true_tin) AS review_right,
        count(*) FILTER (WHERE r.kind IN ('taxpayer', 'jr_sr') AND {agrees}) AS key_findable,
        count(*) FILTER (WHERE r.kind IN ('taxpayer', 'jr_sr') AND {agrees}
                         AND d.verdict IN ('MATCH', 'REVIEW') AND d.tin = r.true_tin) AS covered
      FROM read_parquet('{reqs}') r LEFT JOIN read_parquet('{decided}') d USING (request_id)
    """).fetchall()[0]
    valid, disclosed, correct, findable, wrong_hn, wrong_nt, review, review_right = (
        int(v) for v in row[:8]
    )
    key_findable, covered = int(row[8]), int(row[9])
    return {
        "requests": valid,
        "precision": correct / disclosed if disclosed else 1.0,
        "recall": correct / findable if findable else 0.0,
        "wrong_disclosures": disclosed - correct,
        "wrong_hard_negatives": wrong_hn,
        "wrong_non_taxpayers": wrong_nt,
        "disclosed": disclosed,
        "review_share": review / valid if valid else 0.0,
        "review_right_candidate": review_right / review if review else 1.0,
        "auto_plus_review": covered / key_findable if key_findable else 0.0,
        "key_findable": key_findable,
    }


BANDS: tuple[float, ...] = (0.999, 0.99, 0.9, 0.5)


def _bands(con: duckdb.DuckDBPyConnection, reqs: Path, decided: Path) -> list[dict[str, Any]]:
    """Observed precision per probability band of the unique candidates whose every element
    agreed at an automatic level and whom the matcher named (MATCH or REVIEW): what
    disclosing automatically from that band would do."""
    out = []
    for hi, lo in zip([1.01, *BANDS[:-1]], BANDS, strict=True):
        n, right = con.execute(f"""
          SELECT count(*), count(*) FILTER (WHERE d.auto_tin = r.true_tin)
          FROM read_parquet('{reqs}') r JOIN read_parquet('{decided}') d USING (request_id)
          WHERE d.auto_p >= {lo} AND d.auto_p < {hi} AND d.auto_tin IS NOT NULL""").fetchall()[0]
        out.append({"from": lo, "pairs": int(n), "precision": right / n if n else None})
    return out


def _blocking_recall(con: duckdb.DuckDBPyConnection, reqs: Path, pairs: str) -> float:
    """Share of findable requests whose true taxpayer is in a blocked pair (``l``, ``tin``)."""
    return float(
        con.execute(f"""
          SELECT avg(CASE WHEN p.l IS NULL THEN 0 ELSE 1 END) FROM read_parquet('{reqs}') r
          LEFT JOIN (SELECT DISTINCT l, tin FROM {pairs}) p
            ON p.l = r.request_id AND p.tin = r.true_tin
          WHERE r.kind IN ('taxpayer', 'jr_sr')""").fetchall()[0][0]
    )


def _train(records: Path, model: Path, quick: bool) -> dict[str, Any]:
    from taxgate.matching import train_model

    t0 = time.perf_counter()
    kw = {"u_pairs": 5e6, "sample": 20_000} if quick else {}
    info = train_model(records, model, seed=42, **kw)  # type: ignore[arg-type]
    return {"wall_seconds": time.perf_counter() - t0, "record_versions": info.record_versions}


def _taxgate(records: Path, reqs: Path, work: Path, decided: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from taxgate.matching import match_requests
    from taxgate.settings import load_settings
    from taxgate.types import Request

    model = work / "model" / "model.json"
    fields = [f for f in Request.__slots__ if f != "row"]
    table = pq.read_table(reqs, columns=[*fields, "years"])
    cols = {c: table.column(c).to_pylist() for c in table.column_names}
    t0 = time.perf_counter()
    reqs_in = [
        (Request(*(cols[f][i] or "" for f in fields)), tuple(cols["years"][i]))  # type: ignore[arg-type]
        for i in range(table.num_rows)
    ]
    built = time.perf_counter() - t0
    # matched and decided a slice at a time, as `process` does (settings.match_slice):
    # the results of one slice are reduced to what is scored before the next is matched
    step = load_settings().match_slice
    stats: dict[str, Any] = {"comparisons": 0, "comparisons_per_rule": Counter(), "seconds": {}}
    verdicts: Counter[str] = Counter()
    discrepancies: Counter[str] = Counter()
    out: dict[str, list[Any]] = {"request_id": [], "verdict": [], "tin": [], "auto_p": [],
                                 "auto_tin": []}  # fmt: skip
    slice_pairs: list[Path] = []
    seconds = 0.0
    for k in range(0, len(reqs_in), step):
        part = reqs_in[k : k + step]
        one: dict[str, Any] = {"pairs_out": work / f"taxgate_pairs_{k // step}.parquet"}
        t1 = time.perf_counter()
        res = match_requests(
            part,
            records,
            model,
            _rulebook_thresholds(),
            min_match_weight=TAXGATE_MIN_WEIGHT,
            stats=one,
        )
        seconds += time.perf_counter() - t1
        slice_pairs.append(one["pairs_out"])
        stats["comparisons"] += one["comparisons"]
        stats["comparisons_per_rule"].update(one["comparisons_per_rule"])
        for stage, sec in one["seconds"].items():
            stats["seconds"][stage] = round(stats["seconds"].get(stage, 0.0) + sec, 3)
        for r in res:
            best = r.evidence.get("best")
            unique = r.verdict != "M-AMBIGUOUS" and isinstance(best, dict)
            p_ok = best.get("address_probability") if unique and isinstance(best, dict) else None
            out["request_id"].append(r.request_id)
            out["verdict"].append(r.verdict)
            out["tin"].append(r.tin)
            out["auto_p"].append(p_ok)
            # the evidence names no TIN (it is kept in the store): the candidate is the result's
            out["auto_tin"].append(r.tin if p_ok is not None else None)
            verdicts[r.verdict] += 1
            if r.verdict == "REVIEW":
                discrepancies.update(r.evidence.get("discrepancies") or ["below match threshold"])  # type: ignore[arg-type]
        del res
    pq.write_table(
        pa.table(
            {
                "request_id": out["request_id"],
                "verdict": out["verdict"],
                "tin": out["tin"],
                "auto_p": pa.array(out["auto_p"], pa.float64()),
                "auto_tin": pa.array(out["auto_tin"], pa.string()),
            }
        ),
        decided,
    )
    con = duckdb.connect()
    pairs = f"read_parquet({[str(x) for x in slice_pairs]!r})"  # every slice's, read as one
    blocking_recall = _blocking_recall(con, reqs, pairs)
    for x in slice_pairs:
        x.unlink()
    return {
        "wall_seconds": seconds,
        "build_requests_seconds": built,
        "stage_seconds": stats["seconds"],
        "comparisons": stats["comparisons"],
        "comparisons_per_rule": stats["comparisons_per_rule"],
        "blocking_recall": blocking_recall,
        "verdicts": dict(verdicts),
        "bands": _bands(con, reqs, decided),
        "discrepancies": dict(discrepancies),
        "slice": step,
    }


def _rulebook_thresholds() -> Any:
    """The shipped rulebook's matching thresholds and identity policy, as production uses."""
    from taxgate.matching import Thresholds
    from taxgate.rules.rulebook import load_rulebook

    rb = load_rulebook()
    m = rb.matching
    return Thresholds(m.match_threshold, m.ambiguity_threshold, m.review_threshold, rb.identity)


def _exact_key(records: Path, reqs: Path, work: Path, decided: Path) -> dict[str, Any]:
    con = duckdb.connect()
    key = (
        "lower(trim({p}last_name)) || '|' || lower(substr(trim({p}first_name), 1, 1)) || '|'"
        " || substr({p}zip, 1, 5) || '|' || split_part(trim({p}address_line1), ' ', 1)"
    )
    t0 = time.perf_counter()
    con.execute(f"""
      CREATE TABLE j AS SELECT DISTINCT q.request_id AS l, t.tin
      FROM read_parquet('{reqs}') q JOIN read_parquet('{records}') t
        ON {key.format(p="q.")} = {key.format(p="t.")}""")
    con.execute(f"""
      COPY (SELECT l AS request_id, CASE WHEN count(*) = 1 THEN min(tin) END AS tin,
              CASE WHEN count(*) = 1 THEN 'MATCH' END AS verdict
            FROM j GROUP BY l) TO '{decided}' (FORMAT parquet)""")
    seconds = time.perf_counter() - t0
    n = int(con.execute("SELECT count(*) FROM j").fetchall()[0][0])
    return {
        "wall_seconds": seconds,
        "comparisons": n,
        "comparisons_per_rule": {"exact key": n},
        "blocking_recall": _blocking_recall(con, reqs, "j"),
    }


def _plain_splink(records: Path, reqs: Path, work: Path, decided: Path) -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{work / 'duckdb_tmp'}'")
    t0 = time.perf_counter()
    con.execute(f"""
      CREATE TABLE a AS SELECT request_id AS unique_id, first_name, last_name,
        NULLIF(date_of_birth, '') AS dob, substr(zip, 1, 5) AS zip, NULL AS tin
      FROM read_parquet('{reqs}')""")
    con.execute(f"""
      CREATE TABLE b AS SELECT tin || '-' || tax_year AS unique_id, first_name, last_name,
        CAST(dob AS VARCHAR) AS dob, substr(CAST(zip AS VARCHAR), 1, 5) AS zip, tin
      FROM read_parquet('{records}')""")
    rules = [
        ("zip+surname2", block_on("zip", "substr(last_name, 1, 2)")),
        ("dob+first_init", block_on("dob", "substr(first_name, 1, 1)")),
    ]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name"),
            cl.JaroWinklerAtThresholds("last_name"),
            cl.ExactMatch("dob"),
            cl.ExactMatch("zip"),
        ],
        blocking_rules_to_generate_predictions=[rule for _, rule in rules],
        additional_columns_to_retain=["tin"],
    )
    api = DuckDBAPI(connection=con)
    left = api.register("a", dataset_display_name="a")
    right = api.register("b", dataset_display_name="b")
    linker = Linker([left, right], settings, log_level=None)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for _, rule in rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=2e6)
    train_seconds = time.perf_counter() - t0
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    pred = linker.inference.predict(threshold_match_probability=0.99, warning_mode="never")
    con.execute(f"""
      COPY (SELECT unique_id_l AS request_id, arg_max(tin_r, match_probability) AS tin,
              'MATCH' AS verdict
            FROM {pred.physical_name} GROUP BY 1) TO '{decided}' (FORMAT parquet)""")
    seconds = time.perf_counter() - t0
    per_rule = dict(
        con.execute(
            f"SELECT match_key, count(*) FROM {blocked.physical_name} GROUP BY ALL"
        ).fetchall()
    )
    pairs = (
        f"(SELECT substr(join_key_l, 6) AS l, split_part(substr(join_key_r, 6), '-', 1) AS tin"
        f" FROM {blocked.physical_name})"
    )
    return {
        "wall_seconds": seconds,
        "train_seconds": train_seconds,
        "comparisons": int(sum(per_rule.values())),
        "comparisons_per_rule": {rules[int(k)][0]: int(n) for k, n in per_rule.items()},
        "blocking_recall": _blocking_recall(con, reqs, pairs),
    }


def _run_method(method: str, records: Path, reqs: Path, work: Path, quick: bool) -> dict[str, Any]:
    """Run inside a subprocess; returns figures as a dict."""
    if method == "train":
        out = _train(records, work / "model" / "model.json", quick)
    else:
        decided = work / f"decided_{method}_{reqs.stem}.parquet"
        run = {"taxgate": _taxgate, "plain_splink": _plain_splink, "exact_key": _exact_key}
        out = run[method](records, reqs, work, decided)
        out.update(_score(duckdb.connect(), reqs, decided))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _subprocess(method: str, records: Path, reqs: Path, work: Path, quick: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--method", method, str(records), str(reqs), str(work)]
    # a baseline that would run for hours (plain Splink's blocking at 1.28M x 10M) is stopped
    # and reported as not finished; taxgate itself and training are never cut short
    limit = None if method in ("taxgate", "train") else BASELINE_SECONDS
    try:
        done = subprocess.run(
            [*cmd, "quick" if quick else "full"], capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {limit:,.0f} s: stopped"}
    if done.returncode < 0:
        return {"error": f"killed by signal {-done.returncode} (out of memory?) {done.stderr}"}
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


WORLDS = ("realistic", "corrupt")
#: How long a baseline may run ($TAXGATE_BENCH_BASELINE_SECONDS, default 30 minutes).
BASELINE_SECONDS = float(os.environ.get("TAXGATE_BENCH_BASELINE_SECONDS", "1800"))


def measure(
    work: Path, taxpayers: int, sizes: list[int], quick: bool, baselines_upto: int
) -> dict[str, Any]:
    """Train once on one world, then every method at every size on the realistic and the
    corrupted requests (baselines up to a size), then the adversarial corpus."""
    out: dict[str, Any] = {"worlds": {w: {} for w in WORLDS}}
    for n in sizes:
        records, reqs = world(work, taxpayers, n)
        if "train" not in out:
            out["train"] = _subprocess("train", records, reqs, work, quick)
            out["records"] = int(
                duckdb.sql(f"SELECT count(*) FROM read_parquet('{records}')").fetchall()[0][0]
            )
        bad = corrupt_requests(reqs, work / f"corrupt_{n}.parquet")
        methods = METHODS if n <= baselines_upto else ("taxgate",)
        for name, file in (("realistic", reqs), ("corrupt", bad)):
            out["worlds"][name][n] = {
                m: _subprocess(m, records, file, work, quick) for m in methods
            }
    adv = work / "adversarial"
    records, reqs = adversarial_world(adv)
    out["adversarial_train"] = _subprocess("train", records, reqs, adv, True)
    out["adversarial"] = {m: _subprocess(m, records, reqs, adv, quick) for m in METHODS}
    out["adversarial_cases"] = int(
        duckdb.sql(f"SELECT count(*) FROM read_parquet('{reqs}')").fetchall()[0][0]
    )
    return out


def _fig(name: str, value: Any, unit: str, **kw: Any) -> dict[str, Any]:
    v = float("nan") if value is None else float(value)
    base = kw.get("baseline_value")
    return {
        "topic": TOPIC,
        "name": name,
        "value": v,
        "unit": unit,
        "baseline": kw.get("baseline"),
        "baseline_value": None if base is None else float(base),
        "target": kw.get("target"),
        "note": kw.get("note", ""),
    }


METRICS: tuple[tuple[str, str], ...] = (
    ("precision", "ratio"),
    ("recall", "ratio"),
    ("review_share", "ratio"),
    ("auto_plus_review", "ratio"),
    ("wrong_disclosures", "count"),
    ("wrong_hard_negatives", "count"),
    ("blocking_recall", "ratio"),
    ("comparisons", "pairs"),
    ("wall_seconds", "s"),
    ("peak_rss_mb", "MB"),
)
TARGETS: dict[tuple[str, str], str] = {
    ("realistic", "precision"): ">= 0.999",
    ("realistic", "recall"): ">= 0.95",
    ("corrupt", "precision"): ">= 0.999",
    ("corrupt", "auto_plus_review"): ">= 0.95 (true matches with state, ZIP, house number intact)",
    ("corrupt", "review_share"): "<= 0.15",
    ("realistic", "review_share"): "<= 0.15",
    ("adversarial", "wrong_disclosures"): "0",
    ("adversarial", "wrong_hard_negatives"): "0",
}


def _note(metric: str, by_method: dict[str, Any], bases: list[str]) -> str:
    tg = by_method["taxgate"]
    if metric == "comparisons":
        return "per rule: " + "; ".join(
            f"{m}: {json.dumps(by_method[m].get('comparisons_per_rule', {}))}"
            for m in ("taxgate", *bases)
        )
    if metric == "wall_seconds":
        note = (
            f"taxgate matching stage (trained model, cached record versions), stages "
            f"{json.dumps(tg.get('stage_seconds', {}))}; verdicts "
            f"{json.dumps(tg.get('verdicts', {}))}"
        )
        if "plain_splink" in by_method:
            note += (
                f"; plain Splink incl. its training "
                f"{by_method['plain_splink'].get('train_seconds', 0):.0f} s"
            )
        return note
    if metric == "review_share":
        return (
            f"REVIEW with the true taxpayer as candidate: "
            f"{tg.get('review_right_candidate', 0):.4f}; discrepancies named "
            f"{json.dumps(tg.get('discrepancies', {}))}; baselines have no review band"
        )
    if metric == "auto_plus_review":
        return f"over {tg.get('key_findable', 0):,} true matches; baselines: automatic only"
    if metric == "wrong_hard_negatives":
        return "non-taxpayers disclosed: " + ", ".join(
            f"{m} {by_method[m].get('wrong_non_taxpayers')}" for m in ("taxgate", *bases)
        )
    return ""


def _figs_for(label: str, kind: str, by_method: dict[str, Any]) -> list[dict[str, Any]]:
    figs: list[dict[str, Any]] = []
    tg = by_method["taxgate"]
    bases = [m for m in METHODS[1:] if m in by_method]
    for metric, unit in METRICS:
        target = TARGETS.get((kind, metric))
        note = _note(metric, by_method, bases) or (tg.get("error") or "")[-300:]
        if not bases:
            note = (note + "; " if note else "") + "baselines not run at this size"
            figs.append(_fig(f"{metric} ({label})", tg.get(metric), unit, target=target,
                             note=note))  # fmt: skip
        for base in bases:
            b = by_method[base]
            figs.append(
                _fig(f"{metric} ({label})", tg.get(metric), unit, target=target,
                     baseline=base, baseline_value=b.get(metric),
                     note=note or (b.get("error") or "")[-300:])
            )  # fmt: skip
    for band in tg.get("bands", []):
        figs.append(
            _fig(
                f"observed precision, candidates every element agreeing, p >= {band['from']}"
                f" ({label})",
                band["precision"],
                "ratio",
                note=f"{band['pairs']:,} unique candidates named by the matcher in the band (up"
                " to the next edge)",
            )
        )
    return figs


def figures(res: dict[str, Any], big: int | None) -> list[dict[str, Any]]:
    """One figure per (world, size, metric, baseline): taxgate's value beside the baseline's."""
    figs: list[dict[str, Any]] = []
    rows = res["records"]
    tr = res["train"]
    note = (
        f"{tr.get('record_versions', 0):,} record versions; includes standardising the "
        f"records (cached for matching); peak {tr.get('peak_rss_mb', 0):,.0f} MB"
    )
    figs.append(
        _fig(f"training time ({rows:,} taxpayer-year rows)", tr.get("wall_seconds"), "s",
             target="<= 180" if big else None, note=note + tr.get("error", "")[-300:])
    )  # fmt: skip
    for kind in WORLDS:
        for n, by_method in res["worlds"][kind].items():
            tg = by_method["taxgate"]
            label = f"{kind}, {tg.get('requests', n):,} requests x {rows:,} rows"
            figs += _figs_for(label, kind, by_method)
    label = f"adversarial corpus, {res['adversarial_cases']:,} cases"
    figs += _figs_for(label, "adversarial", res["adversarial"])
    return figs


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    """Figures for ``make bench``.

    quick: 20k taxpayers, 2k valid requests. Full: ~10M taxpayer-year rows (2.2M
    taxpayers), 10k and 100k valid requests, realistic and corrupted, all methods; set
    ``TAXGATE_BENCH_BIG=1`` to add 1.28M requests (taxgate only, ~10 minutes).
    """
    import os

    if quick:
        res = measure(work / "quick", 20_000, [2_000], True, 2_000)
        return figures(res, None)
    sizes = [10_000, 100_000]
    if os.environ.get("TAXGATE_BENCH_BIG") == "1":
        sizes.append(1_280_000)
    # TAXGATE_BENCH_TAXPAYERS: a smaller world when the machine is shared (default ~10M rows)
    taxpayers = int(os.environ.get("TAXGATE_BENCH_TAXPAYERS", BIG_TAXPAYERS))
    res = measure(work / "full", taxpayers, sizes, False, BASELINE_MAX_REQUESTS)
    (work / "matching_raw.json").write_text(json.dumps(res, indent=1, default=str))
    return figures(res, sizes[-1] if sizes[-1] > BASELINE_MAX_REQUESTS else None)


if __name__ == "__main__":
    if sys.argv[1] == "--method":
        method, rec, req, wk = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
        quick_run = len(sys.argv) > 6 and sys.argv[6] == "quick"
        print(json.dumps(_run_method(method, rec, req, wk, quick_run), default=str))
    else:
        tp = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
        rq = [int(x) for x in sys.argv[3].split(",")] if len(sys.argv) > 3 else [2_000]
        result = measure(Path(sys.argv[1]), tp, rq, tp < 100_000, max(rq))
        Path(sys.argv[1], "matching_raw.json").write_text(json.dumps(result, indent=1, default=str))
        for f in figures(result, None):
            base = f" | {f['baseline']} {f['baseline_value']}" if f["baseline"] else ""
            print(f"{f['name']}: {f['value']}{base} (target {f['target']})")
