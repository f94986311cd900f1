"""Cross-verification of accepted requests against taxpayer records.

The flow: standardise (DuckDB) -> block and score with the trained Splink model (DuckDB
or Spark, same settings, same code) -> guards and aggregation by taxpayer (DuckDB SQL)
-> :func:`.decide.decide` per request -> :class:`taxgate.types.MatchResult` with evidence.

A result is a function of (request, records, model) only: term frequencies come from the
record versions (never from the requests), blocking has no caps or sampling, and ties
break on fixed keys; so any subset, superset or order of requests gives each request
the same result (tests/matching/test_invariance.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from taxgate.rules.identity import ADDRESS_ELEMENTS, ELEMENTS, IdentityPolicy
from taxgate.sqltext import literal
from taxgate.types import MatchResult, Request

from .decide import ADDRESS, NONE, REVIEW, Decision, TaxpayerScore, Thresholds, decide
from .elements import level_columns_sql, review_weight_sql, status_sql
from .engines import Engine, memory_budget, open_engine
from .evidence import Levels, evidence_for
from .prepare import helper_cursor
from .records import (
    prepare_records,
    prepare_requests,
    requests_table,
    term_frequency_tables,
)
from .splink_model import (
    ADDRESS_COMPARISONS,
    BLOCKING_RULES,
    load_model,
    name_agreement_weight,
    register_term_frequencies,
    settings_for,
)

Progress = Callable[[str, float], None]


def match_requests(
    requests: Sequence[tuple[Request, tuple[int, ...]]],
    records: Path,
    model: Path,
    thresholds: Thresholds,
    engine: str = "duckdb",
    spark_master: str = "local[2]",
    progress: Progress | None = None,
    *,
    tins: Mapping[str, str] | None = None,
    min_match_weight: float | None = None,
    stats: dict[str, Any] | None = None,
    warm: bool = False,
) -> list[MatchResult]:
    """Cross-verify accepted requests; one :class:`MatchResult` per request, in order.

    Args:
        requests: accepted requests with the tax years they ask about.
        records: taxpayer-year rows (Parquet or CSV with ``RECORD_COLUMNS``).
        model: a model saved by :func:`.model.train_model`.
        thresholds: match, ambiguity and review thresholds (the rulebook's).
        engine: ``duckdb`` or ``spark``.
        spark_master: Spark master URL when ``engine="spark"``.
        progress: called with (stage, fraction done).
        tins: optional TIN per request id; it adds evidence, never stands in for an address.
        min_match_weight: drop scored pairs below this weight (speed at scale).
        stats: if given, filled with ``comparisons`` and ``comparisons_per_rule`` (every
            pair blocking generated, before any weight threshold) and ``seconds`` per
            stage; when it holds ``pairs_out`` (a path), the distinct (request id ``l``,
            taxpayer ``tin``) pairs blocking generated are written there as Parquet.
        warm: keep the DuckDB scorer (engine, record versions, Splink linker) for the
            next call in this process (:mod:`.warm`; the service's workers); the results
            are the same as a cold match's.
    """
    say = progress or (lambda _s, _f: None)
    info = load_model(model)
    work = model.parent / "matching_work"
    tmp = Path(tempfile.mkdtemp(prefix="match_", dir=work if work.exists() else None))
    clock = _Clock()
    con: duckdb.DuckDBPyConnection | None = None
    try:
        say("standardising records", 0.0)
        versions = prepare_records(records, work)
        clock.lap("records")
        say("standardising requests", 0.1)
        req = prepare_requests(requests_table(requests, tins), tmp / "requests.parquet")
        clock.lap("requests")
        say("blocking and scoring", 0.2)
        eng: Engine | None = None
        blocked = tmp / "blocked.parquet" if stats is not None else None
        if warm and engine == "duckdb" and stats is None:
            from .warm import warm_scorer

            with warm_scorer(versions, model, work / "warm") as scorer:
                predictions = scorer.score(req, tmp / "predictions.parquet", min_match_weight)
        else:
            eng = open_engine(engine, tmp, spark_master)
            predictions = _predict(eng, req, versions, model, min_match_weight, tmp, blocked)
        clock.lap("block_and_score")
        say("deciding", 0.8)
        trained = json.loads(model.read_text(encoding="utf-8"))
        levels = Levels.from_model(trained)
        con = helper_cursor()
        con.execute(f"SET memory_limit = {literal(memory_budget(0.1))}")
        rows = _top_two(con, predictions, versions, thresholds, name_agreement_weight(trained))
        clock.lap("aggregate")
        if stats is not None and blocked is not None:
            stats.update(_counts(con, blocked, versions, stats.get("pairs_out")))
        results = _results(con, rows, requests, thresholds, levels, info.version)
        clock.lap("decide")
        if eng is not None:
            eng.close()
        if stats is not None:
            stats["seconds"] = clock.laps
        say("done", 1.0)
        return results
    finally:
        if con is not None:  # its temp tables go with it (the database is shared)
            con.close()
        shutil.rmtree(tmp, ignore_errors=True)


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._t, 3)
        self._t = now


def _predict(
    eng: Engine,
    req: Path,
    versions: Path,
    model: Path,
    min_weight: float | None,
    tmp: Path,
    blocked_out: Path | None = None,
) -> Path:
    from splink import Linker

    left = eng.register(req, "requests")
    right = eng.register(versions, "taxpayer_records")
    trained = settings_for(json.loads(model.read_text(encoding="utf-8")), eng.dialect)
    linker = Linker([left, right], trained, log_level=None)
    register_term_frequencies(linker, eng, versions, trained)
    if blocked_out is not None:  # materialised anyway; predict reuses it from the cache
        eng.export(linker.inference.compute_blocked_pairs_for_predict(), blocked_out)
    scored = linker.inference.predict(threshold_match_weight=min_weight, warning_mode="never")
    out = tmp / "predictions.parquet"
    eng.export(scored, out)
    return out


def _pairs_sql(
    predictions: Path,
    first_names: str,
    last_names: str,
    policy: IdentityPolicy,
    swapped_names_weight: float = 0.0,
) -> str:
    """Scored pairs with each element's level, the rulebook's verdict on them, and flags.

    ``vetoes`` and ``discrepancies`` list the elements whose level the rulebook's
    ``identity`` policy refuses outright or sends to review (:mod:`.elements`);
    ``person_veto`` is set when a vetoing element describes the person (another surname,
    another first name, a date of birth more than a typo away, Jr against Sr): such a pair
    is someone else and does not even compete. ``auto_ok`` marks a pair that may disclose
    automatically (no veto, no discrepancy, an address used in a requested year),
    ``review_ok`` one that a reviewer may approve.
    """
    address_mw = " + ".join(f"coalesce(mw_{c}, 0)" for c in (*ADDRESS_COMPARISONS, "tin"))
    identity_w = f"(match_weight - ({address_mw}))"
    src = parquet_source(predictions)
    address = "[" + ", ".join(literal(e) for e in ADDRESS_ELEMENTS) + "]"
    return f"""
    WITH lv AS (
      SELECT *, {level_columns_sql(first_names, last_names)} FROM {src}
    ), st AS (
      SELECT *, {status_sql(policy)} FROM lv
    )
    SELECT *,
      list_has_any(vetoes, {address}) AS address_veto,
      len(list_intersect(years_l, years_r)) > 0 AS in_period,
      len(vetoes) = 0 AND len(discrepancies) = 0
        AND len(list_intersect(years_l, years_r)) > 0 AS auto_ok,
      len(vetoes) = 0 AND len(list_intersect(years_l, years_r)) > 0 AS review_ok,
      1.0 / (1.0 + pow(2.0, -{identity_w})) AS identity_probability,
      1.0 / (1.0 + pow(2.0, -{review_weight_sql(swapped_names_weight)})) AS review_probability
    FROM st
    """


#: Columns of the aggregated candidate rows (:func:`_top_two`), in order.
TOP_COLUMNS: tuple[str, ...] = (
    "request_id", "rk", "tin", "p_all", "p_ok", "p_rev", "p_id", "n_cand", "shown_pair",
    "discrepancies",
)  # fmt: skip


def _top_two(
    con: duckdb.DuckDBPyConnection,
    predictions: Path,
    versions: Path,
    th: Thresholds,
    swapped_names_weight: float = 0.0,
) -> list[dict[str, Any]]:
    """The two best competing taxpayers per request (rank, scores, the pair to show).

    A pair whose person elements are vetoed is someone else and does not compete. When
    some taxpayer who used the request's address (any year) reaches the ambiguity
    threshold, only taxpayers who used it compete: a namesake, even with the same date of
    birth, who never lived there is someone else. Otherwise every candidate competes.
    """
    tf = term_frequency_tables(versions, ("first_name", "last_name"))
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW tg_first_names AS SELECT first_name AS v"
        f" FROM read_parquet({literal(tf['first_name'])})"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW tg_last_names AS SELECT last_name AS v"
        f" FROM read_parquet({literal(tf['last_name'])})"
    )
    pairs = _pairs_sql(
        predictions, "tg_first_names", "tg_last_names", th.policy, swapped_names_weight
    )
    con.execute(f"CREATE TEMP TABLE tg_pairs AS {pairs}")
    # ties between equally scored versions break on the version id, so the pair whose
    # evidence is shown never depends on scan order or on the other requests
    key = "(match_probability, unique_id_r)"
    rkey = "(review_probability, unique_id_r)"
    sql = f"""
    WITH t AS (
      SELECT unique_id_l AS request_id, tin_r AS tin,
        max(match_probability) AS p_all,
        max(match_probability) FILTER (WHERE auto_ok) AS p_ok,
        max(review_probability) FILTER (WHERE review_ok) AS p_rev,
        max(identity_probability) AS p_id,
        bool_or(NOT address_veto) AS addr_any,
        arg_max(unique_id_r, {key}) AS best_pair,
        arg_max(unique_id_r, {key}) FILTER (WHERE auto_ok) AS ok_pair,
        arg_max(unique_id_r, {rkey}) FILTER (WHERE review_ok) AS rev_pair,
        arg_max(discrepancies, {rkey}) FILTER (WHERE review_ok) AS rev_discrepancies
      FROM tg_pairs WHERE NOT person_veto GROUP BY ALL
    ), c AS (
      SELECT *, count(*) FILTER (WHERE p_all >= 0.01) OVER (PARTITION BY request_id) AS n_cand,
        coalesce(bool_or(addr_any AND p_all >= $amb) OVER (PARTITION BY request_id), false)
          AS someone_here
      FROM t
    ), r AS (
      SELECT *, row_number() OVER (
          PARTITION BY request_id ORDER BY greatest(p_all, coalesce(p_rev, 0)) DESC, tin) AS rk
      FROM c WHERE addr_any OR NOT someone_here
    )
    SELECT request_id, rk, tin, p_all, p_ok, p_rev, p_id, n_cand,
      CASE WHEN rk = 1 AND p_ok >= $match THEN ok_pair
           WHEN rk = 1 AND rev_pair IS NOT NULL THEN rev_pair ELSE best_pair END AS shown_pair,
      CASE WHEN rk = 1 AND p_ok >= $match THEN []::VARCHAR[]
           ELSE coalesce(rev_discrepancies, []::VARCHAR[]) END AS discrepancies
    FROM r WHERE rk <= 2
    """
    con.execute(
        f"CREATE TEMP TABLE tg_top AS {sql}",
        {"amb": th.ambiguity_threshold, "match": th.match_threshold},
    )
    # the best pair that was vetoed as someone else, when it outscored every candidate:
    # the evidence says which element refused it
    con.execute(
        f"""
      CREATE TEMP TABLE tg_vetoed AS
      SELECT v.* FROM (
        SELECT unique_id_l AS request_id, arg_max(unique_id_r, {key}) AS shown_pair,
          arg_max(tin_r, {key}) AS tin, max(match_probability) AS p_all
        FROM tg_pairs WHERE person_veto GROUP BY ALL
      ) v LEFT JOIN tg_top t ON t.request_id = v.request_id AND t.rk = 1
      WHERE v.p_all >= $amb AND (t.p_all IS NULL OR v.p_all > t.p_all)""",
        {"amb": th.ambiguity_threshold},
    )
    cols = ", ".join(TOP_COLUMNS)
    cur = con.execute(f"SELECT {cols} FROM tg_top ORDER BY request_id, rk")
    return [dict(zip(TOP_COLUMNS, row, strict=True)) for row in cur.fetchall()]


def _counts(
    con: duckdb.DuckDBPyConnection, blocked: Path, versions: Path, pairs_out: Any
) -> dict[str, Any]:
    """Comparisons per blocking rule from the blocked pairs, before any weight threshold."""
    src = parquet_source(blocked)
    rows = con.execute(f"SELECT match_key, count(*) FROM {src} GROUP BY ALL").fetchall()
    per_rule = {BLOCKING_RULES[int(k)][0]: int(n) for k, n in rows}
    if pairs_out:
        con.execute(f"""
          COPY (
            SELECT DISTINCT substr(b.join_key_l, {len("requests-__-") + 1}) AS l, v.tin
            FROM {src} b JOIN read_parquet({literal(versions)}) v
              ON v.unique_id = substr(b.join_key_r, {len("taxpayer_records-__-") + 1})
          ) TO {literal(pairs_out)} (FORMAT parquet)""")
    return {"comparisons": sum(per_rule.values()), "comparisons_per_rule": per_rule}


def named_rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: Any = None
) -> list[dict[str, Any]]:
    """A query's rows as dicts by column name (no row is read by position)."""
    cur = con.execute(sql, params) if params is not None else con.execute(sql)
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def parquet_source(path: Path) -> str:
    """A DuckDB table expression for a Parquet file or a folder of them (Spark output)."""
    return f"read_parquet({literal(f'{path}/**/*.parquet' if path.is_dir() else path)})"


def _results(
    con: duckdb.DuckDBPyConnection,
    rows: list[dict[str, Any]],
    requests: Sequence[tuple[Request, tuple[int, ...]]],
    th: Thresholds,
    levels: Levels,
    version: str,
) -> list[MatchResult]:
    by_request: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_request.setdefault(str(row["request_id"]), []).append(row)
    pairs = _evidence_rows(con, levels)
    vetoed: dict[str, dict[str, Any]] = {
        str(r["request_id"]): {
            "tin": str(r["tin"]),
            "p_all": float(r["p_all"]),
            "shown_pair": str(r["shown_pair"]),
        }
        for r in named_rows(con, "SELECT request_id, tin, p_all, shown_pair FROM tg_vetoed")
    }
    out = []
    for req, _years in requests:
        rid = req.request_id
        top = by_request.get(rid, [])
        scores = [
            TaxpayerScore(
                str(r["tin"]),
                float(r["p_all"]),
                _opt(r["p_ok"]),
                float(r["p_id"]),
                _opt(r["p_rev"]),
                tuple(r["discrepancies"] or ()),
            )
            for r in top
        ]
        d = decide(scores[0] if scores else None, scores[1] if len(scores) > 1 else None, th)
        ev: dict[str, object] = {"why": d.why}
        for label, r in zip(("best", "second"), top, strict=False):
            ev[label] = evidence_for(pairs.get((rid, str(r["shown_pair"])), {}), levels, r)
        if rid in vetoed:
            v = vetoed[rid]
            ev["vetoed"] = evidence_for(pairs.get((rid, v["shown_pair"]), {}), levels, v)
        ev["elements"], ev["vetoed_by"], ev["discrepancies"] = _element_summary(ev, d)
        # TINs stay out of the evidence: MatchResult.tin and runner_up carry them to the store
        if d.verdict == REVIEW:
            ev["candidate"] = {"probability": d.probability}
        if len(scores) > 1:
            ev["runner_up"] = {"probability": scores[1].probability}
        out.append(
            MatchResult(
                request_id=rid,
                verdict=d.verdict,
                tin=d.tin,
                probability=d.probability,
                candidates=int(top[0]["n_cand"]) if top else 0,
                second_probability=scores[1].probability if len(scores) > 1 else 0.0,
                runner_up=scores[1].tin if len(scores) > 1 and d.tin else None,
                evidence=ev,
                model_version=version,
            )
        )
    return out


def _element_summary(
    ev: dict[str, object], d: Decision
) -> tuple[dict[str, str], list[str], list[str]]:
    """Each element's level, the vetoing elements and the discrepancies of the decision.

    They are read from the candidate the decision is about (``best``), or from the vetoed
    pair when that one outscored every candidate (so the evidence says who refused it).
    """
    shown = ev.get("best")
    vetoed = ev.get("vetoed")
    if isinstance(vetoed, dict) and d.verdict in (NONE, ADDRESS):
        shown = vetoed
    if not isinstance(shown, dict):
        return {}, [], []
    elements = dict(shown.get("elements", {}))
    return elements, list(shown.get("vetoes", [])), list(d.discrepancies)


def _evidence_rows(
    con: duckdb.DuckDBPyConnection, levels: Levels
) -> dict[tuple[str, str], dict[str, Any]]:
    """The scored pairs shown as evidence (top-two taxpayers, vetoed), by (request, version)."""
    cols = ["unique_id_l", "unique_id_r", "match_weight", "match_key", "vetoes", "discrepancies"]
    cols += [f"lv_{e}" for e in ELEMENTS]
    have = {str(r["column_name"]) for r in named_rows(con, "DESCRIBE tg_pairs")}
    for name in levels.labels:
        cols += [c for c in (f"gamma_{name}", f"mw_{name}", f"mw_tf_adj_{name}") if c in have]
    cur = con.execute(
        f"SELECT {', '.join('p.' + c for c in cols)} FROM tg_pairs p JOIN ("
        " SELECT request_id, shown_pair FROM tg_top UNION SELECT request_id, shown_pair"
        " FROM tg_vetoed) t ON p.unique_id_l = t.request_id AND p.unique_id_r = t.shown_pair"
    )
    rows = (dict(zip(cols, v, strict=True)) for v in cur.fetchall())
    return {(str(r["unique_id_l"]), str(r["unique_id_r"])): r for r in rows}


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
