"""Matching benchmark: taxgate's matcher beside plain Splink and an exact-key join.

Each method runs in its own subprocess (peak memory = that process's ru_maxrss) on the
same synthetic world. Requests come from ``taxgate.synth.write_batch`` when it exists,
else from a built-in generator (taxpayers with light noise, non-taxpayers, and hard
negatives: a taxpayer's name at an address they never used, a stranger's first name at
a taxpayer's address). Only valid kinds reach the matcher (defects are refused earlier).

Run directly: ``python bench/bench_matching.py WORK [taxpayers requests]``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

TOPIC = "matching"
METHODS = ("taxgate", "plain_splink", "exact_key")


def _world(work: Path, taxpayers: int, requests: int, seed: int) -> tuple[Path, Path]:
    from taxgate.synth import write_records

    records = work / f"records_{taxpayers}.parquet"
    if not records.exists():
        write_records(records, taxpayers, seed)
    reqs = work / f"requests_{taxpayers}_{requests}.parquet"
    if not reqs.exists():
        _make_requests(records, reqs, requests, seed)
    return records, reqs


def _make_requests(records: Path, out: Path, n: int, seed: int) -> None:
    """Requests with truth: 55% taxpayers, 30% non-taxpayers, 15% hard negatives."""
    con = duckdb.connect()
    n_tp, n_hn = int(n * 0.55), int(n * 0.15)
    n_non = n - n_tp - n_hn
    src = f"read_parquet('{records}')"

    def h(tag: str) -> str:
        return f"(hash(tin || tax_year || '{seed}{tag}') % 1000) / 1000.0"

    con.execute(f"""
    CREATE TABLE s AS SELECT * FROM {src} ORDER BY hash(tin || tax_year || '{seed}')
    LIMIT {n_tp + 2 * n_hn + 2 * n_non}
    """)
    con.execute(f"""
    CREATE TABLE r AS
    WITH tp AS (SELECT * FROM s LIMIT {n_tp}),
         other AS (SELECT *, row_number() OVER () AS k FROM s OFFSET {n_tp})
    SELECT 'tp' || row_number() OVER () AS request_id, 'taxpayer' AS kind, tin AS true_tin,
      CASE WHEN {h("f")} < 0.1 THEN upper(first_name) ELSE first_name END AS first_name,
      CASE WHEN {h("m")} < 0.6 THEN '' ELSE middle_name END AS middle_name,
      last_name, suffix,
      CASE WHEN {h("d")} < 0.5 THEN '' ELSE CAST(dob AS VARCHAR) END AS date_of_birth,
      CASE WHEN {h("a")} < 0.3 THEN replace(replace(address_line1, ' St', ' Street'), ' Ave',
        ' Avenue') ELSE address_line1 END AS address_line1,
      address_line2, city, state, zip, [tax_year] AS years
    FROM tp
    UNION ALL
    SELECT 'hn' || k, 'hard_negative', NULL,
      CASE WHEN k % 2 = 0 THEN first_name ELSE 'Zebulon' END, '', last_name, suffix,
      CASE WHEN k % 2 = 0 THEN CAST(dob AS VARCHAR) ELSE '' END,
      CASE WHEN k % 2 = 0 THEN CAST(1 + (hash(tin) % 9000) AS VARCHAR) || ' Nonesuch Rd'
           ELSE address_line1 END,
      CASE WHEN k % 2 = 0 THEN '' ELSE address_line2 END, city, state, zip, [tax_year]
    FROM other WHERE k <= {n_hn}
    UNION ALL
    SELECT 'nt' || k, 'non_taxpayer', NULL,
      a.first_name, '', b.last_name, '', '',
      CAST(10000 + (hash(a.tin) % 80000) AS VARCHAR) || ' ' || split_part(a.address_line1, ' ',
        2) || ' Rd', '', a.city, a.state, a.zip, [a.tax_year]
    FROM (SELECT *, row_number() OVER () AS k FROM other WHERE k > {n_hn}) a
    JOIN (SELECT last_name, row_number() OVER (ORDER BY hash(tin || '{seed}x')) AS k2
          FROM other) b ON b.k2 = a.k + 7
    WHERE a.k <= {n_non}
    """)
    con.execute(f"COPY r TO '{out}' (FORMAT parquet)")


def _score(con: duckdb.DuckDBPyConnection, reqs: Path, decided: Path) -> dict[str, float]:
    row = con.execute(f"""
      SELECT
        count(*) FILTER (WHERE d.tin IS NOT NULL) AS disclosed,
        count(*) FILTER (WHERE d.tin IS NOT NULL AND d.tin = r.true_tin) AS correct,
        count(*) FILTER (WHERE r.true_tin IS NOT NULL) AS with_truth,
        count(*) FILTER (WHERE d.tin IS NOT NULL AND r.kind = 'hard_negative') AS wrong_hn,
        count(*) FILTER (WHERE d.tin IS NOT NULL AND r.kind = 'non_taxpayer') AS wrong_nt
      FROM read_parquet('{reqs}') r LEFT JOIN read_parquet('{decided}') d USING (request_id)
    """).fetchall()[0]
    disclosed, correct, with_truth, wrong_hn, wrong_nt = (int(v) for v in row)
    return {
        "precision": correct / disclosed if disclosed else 1.0,
        "recall": correct / with_truth if with_truth else 0.0,
        "wrong_hard_negatives": wrong_hn,
        "wrong_non_taxpayers": wrong_nt,
        "disclosed": disclosed,
    }


def _run_method(method: str, records: Path, reqs: Path, work: Path) -> dict[str, Any]:
    """Run inside a subprocess; returns figures as a dict."""
    start = time.perf_counter()
    out: dict[str, Any] = {}
    decided = work / f"decided_{method}.parquet"
    con = duckdb.connect()
    if method == "taxgate":
        from taxgate.matching import Thresholds, match_requests, train_model
        from taxgate.model import Request

        model = work / "model" / "model.json"
        t0 = time.perf_counter()
        if not model.exists():
            train_model(records, model, seed=42)
        out["train_seconds"] = time.perf_counter() - t0
        rows = con.execute(f"SELECT * FROM read_parquet('{reqs}')").fetchall()
        names = [d[0] for d in con.description]  # type: ignore[union-attr]
        reqs_in = []
        for v in rows:
            d = dict(zip(names, v, strict=True))
            fields = {k: str(d[k] or "") for k in Request.__slots__ if k in d and k != "row"}
            reqs_in.append((Request(**fields), tuple(d["years"])))
        t1 = time.perf_counter()
        stats: dict[str, Any] = {"pairs_out": work / "taxgate_pairs.parquet"}
        res = match_requests(reqs_in, records, model, Thresholds(), stats=stats)
        out["match_seconds"] = time.perf_counter() - t1
        out["comparisons_per_rule"] = stats["comparisons_per_rule"]
        con.execute("CREATE TABLE d (request_id VARCHAR, tin VARCHAR)")
        con.executemany(
            "INSERT INTO d VALUES (?, ?)",
            [(r.request_id, r.tin) for r in res if r.verdict == "MATCH"],
        )
        con.execute(f"COPY d TO '{decided}' (FORMAT parquet)")
        out["blocking_recall"] = con.execute(f"""
          SELECT avg(CASE WHEN p.l IS NULL THEN 0 ELSE 1 END) FROM read_parquet('{reqs}') r
          LEFT JOIN (SELECT DISTINCT l, tin FROM read_parquet('{stats["pairs_out"]}')) p
            ON p.l = r.request_id AND p.tin = r.true_tin WHERE r.true_tin IS NOT NULL
        """).fetchall()[0][0]
    elif method == "exact_key":
        key = (
            "lower(trim({p}last_name)) || '|' || lower(substr(trim({p}first_name), 1, 1)) || '|'"
            " || substr({p}zip, 1, 5) || '|' || split_part(trim({p}address_line1), ' ', 1)"
        )
        con.execute(f"""
          COPY (
            SELECT request_id, CASE WHEN count(DISTINCT t.tin) = 1 THEN min(t.tin) END AS tin
            FROM read_parquet('{reqs}') q JOIN read_parquet('{records}') t
              ON {key.format(p="q.")} = {key.format(p="t.")}
            GROUP BY request_id
          ) TO '{decided}' (FORMAT parquet)""")
    else:
        _plain_splink(con, records, reqs, decided, out)
    out["wall_seconds"] = time.perf_counter() - start
    out.update(_score(con, reqs, decided))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _plain_splink(
    con: duckdb.DuckDBPyConnection, records: Path, reqs: Path, decided: Path, out: dict[str, Any]
) -> None:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    cols = "first_name, last_name, CAST(dob AS VARCHAR) AS dob, substr(zip, 1, 5) AS zip"
    con.execute(
        f"CREATE TABLE a AS SELECT request_id AS unique_id, first_name, last_name, "
        f"NULLIF(date_of_birth, '') AS dob, substr(zip, 1, 5) AS zip, NULL AS tin "
        f"FROM read_parquet('{reqs}')"
    )
    con.execute(
        f"CREATE TABLE b AS SELECT tin || '-' || tax_year AS unique_id, {cols}, tin "
        f"FROM read_parquet('{records}')"
    )
    api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name"),
            cl.JaroWinklerAtThresholds("last_name"),
            cl.ExactMatch("dob"),
            cl.ExactMatch("zip"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("zip", "substr(last_name, 1, 2)"),
            block_on("dob", "substr(first_name, 1, 1)"),
        ],
        additional_columns_to_retain=["tin"],
    )
    linker = Linker(
        [api.register("a", dataset_display_name="a"), api.register("b", dataset_display_name="b")],
        settings,
        log_level=None,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("zip"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    pred = linker.inference.predict(threshold_match_probability=0.99, warning_mode="never")
    con.execute(f"""
      COPY (SELECT unique_id_l AS request_id, arg_max(tin_r, match_probability) AS tin
            FROM {pred.physical_name} GROUP BY 1) TO '{decided}' (FORMAT parquet)""")


def _subprocess(method: str, records: Path, reqs: Path, work: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--method", method, str(records), str(reqs), str(work)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(work: Path, taxpayers: int, requests: int, seed: int = 7) -> dict[str, Any]:
    """All three methods on one world; returns {method: figures}."""
    work.mkdir(parents=True, exist_ok=True)
    records, reqs = _world(work, taxpayers, requests, seed)
    return {m: _subprocess(m, records, reqs, work) for m in METHODS}


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    """Figures for ``make bench``; quick: 20k taxpayers, 2k requests."""
    sizes = [(20_000, 2_000)] if quick else [(100_000, 10_000), (1_000_000, 100_000)]
    figures: list[dict[str, Any]] = []
    for taxpayers, requests in sizes:
        res = measure(work / f"w{taxpayers}", taxpayers, requests)
        tg = res["taxgate"]
        scale = f"{requests} requests x {taxpayers} taxpayers"
        for metric, unit, target in (
            ("precision", "ratio", ">= 0.999"),
            ("recall", "ratio", ">= 0.95"),
            ("wrong_hard_negatives", "count", "0"),
            ("wall_seconds", "s", None),
            ("peak_rss_mb", "MB", None),
        ):
            for base in ("plain_splink", "exact_key"):
                figures.append(
                    {
                        "topic": TOPIC,
                        "name": f"{metric} ({scale})",
                        "value": float(tg.get(metric, float("nan"))),
                        "unit": unit,
                        "baseline": base,
                        "baseline_value": float(res[base].get(metric, float("nan"))),
                        "target": target,
                        "note": "taxgate matcher vs baseline",
                    }
                )
        figures.append(
            {
                "topic": TOPIC,
                "name": f"blocking recall ({scale})",
                "value": float(tg.get("blocking_recall") or float("nan")),
                "unit": "ratio",
                "baseline": None,
                "baseline_value": None,
                "target": ">= 0.99",
                "note": json.dumps(tg.get("comparisons_per_rule", {})),
            }
        )
    return figures


if __name__ == "__main__":
    if sys.argv[1] == "--method":
        method, rec, req, wk = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
        print(json.dumps(_run_method(method, rec, req, wk), default=str))
    else:
        tp = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
        rq = int(sys.argv[3]) if len(sys.argv) > 3 else 2_000
        print(json.dumps(measure(Path(sys.argv[1]), tp, rq), indent=1, default=str))
