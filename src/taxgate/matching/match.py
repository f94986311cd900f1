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

from taxgate.types import MatchResult, Request

from .decide import Decision, TaxpayerScore, Thresholds, decide
from .engines import memory_budget, open_engine
from .evidence import Levels, evidence_for
from .prepare import register_helpers
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
    """
    say = progress or (lambda _s, _f: None)
    info = load_model(model)
    work = model.parent / "matching_work"
    tmp = Path(tempfile.mkdtemp(prefix="match_", dir=work if work.exists() else None))
    clock = _Clock()
    try:
        say("standardising records", 0.0)
        versions = prepare_records(records, work)
        clock.lap("records")
        say("standardising requests", 0.1)
        req = prepare_requests(requests_table(requests, tins), tmp / "requests.parquet")
        clock.lap("requests")
        eng = open_engine(engine, tmp, spark_master)
        say("blocking and scoring", 0.2)
        blocked = tmp / "blocked.parquet" if stats is not None else None
        predictions = _predict(eng, req, versions, model, min_match_weight, tmp, blocked)
        clock.lap("block_and_score")
        say("deciding", 0.8)
        levels = Levels.from_model(json.loads(model.read_text(encoding="utf-8")))
        con = duckdb.connect()
        con.execute(f"SET temp_directory = '{tmp / 'duckdb_tmp'}'")
        con.execute(f"SET memory_limit = '{memory_budget(0.1)}'")
        register_helpers(con)
        tf_first = term_frequency_tables(versions, ("first_name",))["first_name"]
        rows = _top_two(con, predictions, tf_first, thresholds.ambiguity_threshold)
        clock.lap("aggregate")
        if stats is not None and blocked is not None:
            stats.update(_counts(con, blocked, versions, stats.get("pairs_out")))
        results = _results(con, predictions, rows, requests, thresholds, levels, info.version)
        clock.lap("decide")
        con.close()
        if eng.spark is None:
            eng.con.close()
        if stats is not None:
            stats["seconds"] = clock.laps
        say("done", 1.0)
        return results
    finally:
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
    eng: Any,
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


def first_name_ok_sql(tf_first_name: str) -> str:
    """SQL: the pair's first names agree well enough to disclose that taxpayer.

    Names are folded (case, accents, punctuation, spaces) before this, so accent and
    case noise is already exact agreement. Principles, one per agreement kind:

    - exact agreement agrees; so does a nickname: between two single given names any
      shared canonical form (Bill/William), and otherwise only when the request's whole
      first name is a nickname of the record's whole name or of one of its given names
      (Lupe -> María Guadalupe, Majo -> María José, Pepe Luis -> José Luis) without being
      one of those given names itself (``tg_nick`` is the nickname table);
    - a partial agreement, where either name has several given names and they share
      only one (María / María José, José Luis / José, Ji-ho / Eun-ji), is no evidence of
      who unless the date of birth agrees exactly: families reuse given names. Such a
      pair never discloses, but its taxpayer still competes (when in doubt, refuse);
    - a close spelling agrees without the date of birth only when it has the shape of a
      typo: one edit (Damerau) between two single given names of at least four letters
      that keeps the first letter and either keeps the last or swaps the last two
      (Vladimri), and the request's spelling is no taxpayer's first name
      (``tf_first_name`` is the records' first-name lookup). Pairs
      like Dragan/Dragana or Daniel/Daniela differ in the ending that marks gender, and
      Hương/Hùng are two real names: different names, not typos, so such a pair is
      dropped like a disagreeing first name (:func:`_pairs_sql`). A typo that happens to
      spell another real name is refused too; with an exact date of birth any close
      spelling agrees;
    - first names that disagree outright never agree, whatever else does (twins).
    """
    typo = f"""(first_parts_l = 1 AND first_parts_r = 1
        AND least(length(first_name_l), length(first_name_r)) >= 4
        AND damerau_levenshtein(first_name_l, first_name_r) = 1
        AND left(first_name_l, 1) = left(first_name_r, 1)
        AND (right(first_name_l, 1) = right(first_name_r, 1)
             OR list_sort(string_split(first_name_l, '')) =
                list_sort(string_split(first_name_r, '')))
        AND first_name_l NOT IN (SELECT first_name FROM {tf_first_name}))"""
    nickname = """(gamma_first_name = 2 AND ((first_parts_l = 1 AND first_parts_r = 1)
        OR (NOT list_contains(first_forms_r, first_name_l)
            AND list_has_any(coalesce((SELECT canon FROM tg_nick WHERE name = first_name_l),
                                      []::VARCHAR[]), first_forms_r))))"""
    return f"""(gamma_first_name = -1 OR first_name_l = first_name_r
      OR (gamma_first_name > 0 AND coalesce(dob_l = dob_r, false))
      OR {nickname}
      OR (gamma_first_name = 1 AND {typo}))"""


def _pairs_sql(predictions: Path, tf_first_name: Path) -> str:
    """Scored pairs with guards, address-in-period and identity-only probability.

    Guards drop a pair whose dates of birth differ by more than one edit, whose name
    suffixes differ (Jr/Sr), or whose first names disagree outright or are a close
    spelling of two single names that is not a typo (:func:`first_name_ok_sql`): surname,
    address and even date of birth are shared within families (twins), so they cannot
    make a different first name the same person. ``first_ok`` marks the pairs whose first
    names agree well enough to disclose; the others (partial agreements) only compete.
    """
    address_mw = " + ".join(f"coalesce(mw_{c}, 0)" for c in (*ADDRESS_COMPARISONS, "tin"))
    identity_w = f"(match_weight - ({address_mw}))"
    src = _parquet(predictions)
    first_ok = first_name_ok_sql(f"read_parquet('{tf_first_name}')")
    return f"""
    SELECT *,
      (dob_l IS NULL OR dob_r IS NULL OR levenshtein(dob_l, dob_r) <= 1)
      AND (suffix_l IS NULL OR suffix_r IS NULL OR suffix_l = suffix_r)
      AND gamma_first_name <> 0
      AND ({first_ok} OR gamma_first_name <> 1
           OR coalesce(greatest(first_parts_l, first_parts_r) > 1, true)) AS guard_ok,
      {first_ok} AS first_ok,
      (house_number_l = house_number_r AND zip5_l = zip5_r
        AND (street_name_l = street_name_r
             OR jaro_winkler_similarity(street_name_l, street_name_r) >= 0.9)
        AND NOT coalesce(unit_l <> unit_r, false)) AS address_ok,
      len(list_intersect(years_l, years_r)) > 0 AS in_period,
      1.0 / (1.0 + pow(2.0, -{identity_w})) AS identity_probability
    FROM {src}
    """


def _top_two(
    con: duckdb.DuckDBPyConnection, predictions: Path, tf_first_name: Path, ambiguity: float
) -> list[tuple[Any, ...]]:
    """The two best competing taxpayers per request (rank, scores, pairs to show).

    A request names a person at an address. When some taxpayer who used that address
    (any year) reaches the ambiguity threshold, only taxpayers who used it compete: a
    namesake, even with the same date of birth, who never lived there is someone else.
    Otherwise every candidate competes, as before.
    """
    con.execute(f"CREATE TEMP TABLE tg_pairs AS {_pairs_sql(predictions, tf_first_name)}")
    # ties between equally scored versions break on the version id, so the pair whose
    # evidence is shown never depends on scan order or on the other requests
    sql = """
    WITH t AS (
      SELECT unique_id_l AS request_id, tin_r AS tin,
        max(match_probability) AS p_all,
        max(match_probability) FILTER (WHERE address_ok AND in_period AND first_ok) AS p_ok,
        max(identity_probability) AS p_id,
        bool_or(address_ok) AS addr_any,
        arg_max(unique_id_r, (match_probability, unique_id_r)) AS best_pair,
        arg_max(unique_id_r, (match_probability, unique_id_r))
          FILTER (WHERE address_ok AND in_period AND first_ok) AS ok_pair
      FROM tg_pairs WHERE guard_ok GROUP BY ALL
    ), c AS (
      SELECT *, count(*) FILTER (WHERE p_all >= 0.01) OVER (PARTITION BY request_id) AS n_cand,
        coalesce(bool_or(addr_any AND p_all >= ?) OVER (PARTITION BY request_id), false)
          AS someone_here
      FROM t
    ), r AS (
      SELECT *, row_number() OVER (PARTITION BY request_id ORDER BY p_all DESC, tin) AS rk
      FROM c WHERE addr_any OR NOT someone_here
    )
    SELECT request_id, rk, tin, p_all, p_ok, p_id, best_pair, ok_pair, n_cand,
      CASE WHEN rk = 1 AND ok_pair IS NOT NULL THEN ok_pair ELSE best_pair END AS shown_pair
    FROM r WHERE rk <= 2
    """
    con.execute(f"CREATE TEMP TABLE tg_top AS {sql}", [ambiguity])
    return con.execute("SELECT * FROM tg_top ORDER BY request_id, rk").fetchall()


def _counts(
    con: duckdb.DuckDBPyConnection, blocked: Path, versions: Path, pairs_out: Any
) -> dict[str, Any]:
    """Comparisons per blocking rule from the blocked pairs, before any weight threshold."""
    src = _parquet(blocked)
    rows = con.execute(f"SELECT match_key, count(*) FROM {src} GROUP BY ALL").fetchall()
    per_rule = {BLOCKING_RULES[int(k)][0]: int(n) for k, n in rows}
    if pairs_out:
        con.execute(f"""
          COPY (
            SELECT DISTINCT substr(b.join_key_l, {len("requests-__-") + 1}) AS l, v.tin
            FROM {src} b JOIN read_parquet('{versions}') v
              ON v.unique_id = substr(b.join_key_r, {len("taxpayer_records-__-") + 1})
          ) TO '{pairs_out}' (FORMAT parquet)""")
    return {"comparisons": sum(per_rule.values()), "comparisons_per_rule": per_rule}


def _parquet(path: Path) -> str:
    """A DuckDB table expression for a Parquet file or a folder of them (Spark output)."""
    return f"read_parquet('{path}/**/*.parquet')" if path.is_dir() else f"'{path}'"


def _results(
    con: duckdb.DuckDBPyConnection,
    predictions: Path,
    rows: list[tuple[Any, ...]],
    requests: Sequence[tuple[Request, tuple[int, ...]]],
    th: Thresholds,
    levels: Levels,
    version: str,
) -> list[MatchResult]:
    by_request: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_request.setdefault(str(row[0]), []).append(row)
    decided: dict[str, tuple[Decision, list[tuple[Any, ...]]]] = {}
    for rid, top in by_request.items():
        scores = [TaxpayerScore(str(r[2]), float(r[3]), _opt(r[4]), float(r[5])) for r in top]
        d = decide(scores[0], scores[1] if len(scores) > 1 else None, th)
        decided[rid] = (d, top)
    pairs = _evidence_rows(con, levels)
    out = []
    for req, _years in requests:
        rid = req.request_id
        if rid not in decided:
            d = decide(None, None, th)
            out.append(MatchResult(rid, d.verdict, evidence={"why": d.why}, model_version=version))
            continue
        d, top = decided[rid]
        ev: dict[str, object] = {"why": d.why}
        for label, r in zip(("best", "second"), top, strict=False):
            ev[label] = evidence_for(pairs.pop((rid, str(r[9])), {}), levels, r)
        out.append(
            MatchResult(
                request_id=rid,
                verdict=d.verdict,
                tin=d.tin,
                probability=d.probability,
                candidates=int(top[0][8]),
                second_probability=float(top[1][3]) if len(top) > 1 else 0.0,
                runner_up=str(top[1][2]) if len(top) > 1 and d.tin else None,
                evidence=ev,
                model_version=version,
            )
        )
    return out


def _evidence_rows(
    con: duckdb.DuckDBPyConnection, levels: Levels
) -> dict[tuple[str, str], dict[str, Any]]:
    """The scored pairs shown as evidence (one per top-two taxpayer), by (request, version)."""
    cols = ["unique_id_l", "unique_id_r", "match_weight", "match_key"]
    have = {str(r[0]) for r in con.execute("DESCRIBE tg_pairs").fetchall()}
    for name in levels.labels:
        cols += [c for c in (f"gamma_{name}", f"mw_{name}", f"mw_tf_adj_{name}") if c in have]
    cur = con.execute(
        f"SELECT {', '.join('p.' + c for c in cols)} FROM tg_pairs p JOIN tg_top t"
        " ON p.unique_id_l = t.request_id AND p.unique_id_r = t.shown_pair"
    )
    return {(str(v[0]), str(v[1])): dict(zip(cols, v, strict=True)) for v in cur.fetchall()}


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
