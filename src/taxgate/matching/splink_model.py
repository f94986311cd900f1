"""The Splink model: settings, training (u by random sampling, m by EM) and its file.

Training needs no labelled requests. It draws a seeded sample of taxpayer-year rows
and turns them into request-like rows with the kinds of variation requests carry
(nicknames, typos, missing date of birth or middle name, an older address), then links
them to the records: u by random sampling of record pairs, m by expectation
maximisation on two blockings (address; date of birth), each estimating the
comparisons the other holds fixed. The saved JSON is Splink's own; its version, the
hash of that JSON plus the training time, lives in a sidecar ``<model>.meta.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taxgate.errors import StoreError
from taxgate.sqltext import literal

from .elements import EXTRA_COLUMNS
from .engines import Engine, open_engine
from .records import prepare_records, term_frequency_tables, training_requests

Progress = Callable[[str, float], None]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A trained model on disk and what identifies it."""

    path: Path
    version: str
    sha256: str
    trained_at: str
    seed: int
    engine: str
    record_versions: int
    training_pairs_u: float
    seconds: float


def comparisons() -> list[Any]:
    """The comparisons, strongest level first in each."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def custom(name: str, levels: list[Any]) -> Any:
        return cl.CustomComparison(comparison_levels=levels, output_column_name=name)

    return [
        custom(
            "first_name",
            [
                cll.NullLevel("first_name"),
                cll.ExactMatchLevel("first_name", term_frequency_adjustments=True),
                cll.ArrayIntersectLevel("first_forms", 1).configure(
                    label_for_charts="nickname or canonical form agrees"
                ),
                cll.JaroWinklerLevel("first_name", 0.92),
                cll.ElseLevel(),
            ],
        ),
        custom(
            "middle_name",
            [
                cll.NullLevel("middle_name"),
                cll.ExactMatchLevel("middle_name"),
                cll.CustomLevel(
                    "substr(middle_name_l, 1, 1) = substr(middle_name_r, 1, 1)",
                    label_for_charts="initial agrees",
                ),
                cll.ElseLevel(),
            ],
        ),
        custom(
            "last_name",
            [
                cll.NullLevel("last_name"),
                cll.ExactMatchLevel("last_name", term_frequency_adjustments=True),
                cll.ArrayIntersectLevel("last_parts", 1).configure(
                    label_for_charts="one surname part agrees"
                ),
                cll.JaroWinklerLevel("last_name", 0.92),
                cll.ElseLevel(),
            ],
        ),
        custom(
            "dob",
            [
                cll.NullLevel("dob"),
                cll.ExactMatchLevel("dob"),
                cll.LevenshteinLevel("dob", 1),
                cll.ElseLevel(),
            ],
        ),
        custom(
            "house_number",
            [cll.NullLevel("house_number"), cll.ExactMatchLevel("house_number"), cll.ElseLevel()],
        ),
        custom(
            "street_name",
            [
                cll.NullLevel("street_name"),
                cll.ExactMatchLevel("street_name", term_frequency_adjustments=True),
                cll.JaroWinklerLevel("street_name", 0.9),
                cll.ElseLevel(),
            ],
        ),
        custom("unit", [cll.NullLevel("unit"), cll.ExactMatchLevel("unit"), cll.ElseLevel()]),
        custom("zip5", [cll.NullLevel("zip5"), cll.ExactMatchLevel("zip5"), cll.ElseLevel()]),
        custom("tin", [cll.NullLevel("tin"), cll.ExactMatchLevel("tin"), cll.ElseLevel()]),
    ]


#: Blocking rules for prediction, by name; each keeps a different kind of true pair. A rule
#: is the columns that must agree on both sides, or SQL over ``l`` (request) and ``r``
#: (record version): first and last name entered in each other's field find their
#: taxpayer by the date of birth or, without one, by the ZIP code.
BLOCKING_RULES: tuple[tuple[str, tuple[str, ...] | str], ...] = (
    ("zip5+house_number", ("zip5", "house_number")),
    ("dob+first_init+surname_init", ("dob", "first_init", "substr(last_name, 1, 1)")),
    ("surname_code+first_init+zip5", ("last_code", "first_init", "zip5")),
    ("tin", ("tin",)),
    (  # joined on the date of birth and the initials; one of the two names exact
        "dob+swapped_names",
        "l.dob = r.dob AND l.first_init = substr(r.last_name, 1, 1)"
        " AND substr(l.last_name, 1, 1) = r.first_init"
        " AND (l.first_name = replace(r.last_name, ' ', '')"
        " OR replace(l.last_name, ' ', '') = r.first_name)",
    ),
    (
        "zip5+swapped_names",
        "l.zip5 = r.zip5 AND l.first_name = replace(r.last_name, ' ', '')"
        " AND replace(l.last_name, ' ', '') = r.first_name",
    ),
)


def _blocking_rule(rule: tuple[str, ...] | str) -> Any:
    from splink import block_on

    return rule if isinstance(rule, str) else block_on(*rule)


def name_agreement_weight(model: dict[str, Any]) -> float:
    """The weight (log2 m/u) of exact agreement on the first name plus that on the surname,
    without term frequencies: what names entered in each other's field say once swapped
    back (:func:`taxgate.matching.elements.review_weight_sql`)."""
    total = 0.0
    for comp in model.get("comparisons", []):
        if comp.get("output_column_name") not in ("first_name", "last_name"):
            continue
        for level in comp.get("comparison_levels", []):
            if str(level.get("label_for_charts", "")).startswith("Exact match"):
                m, u = level.get("m_probability"), level.get("u_probability")
                if m and u:
                    total += math.log2(float(m) / float(u))
                break
    return total


ADDRESS_COMPARISONS: tuple[str, ...] = ("house_number", "street_name", "unit", "zip5")


def settings(prior: float = 1e-6) -> Any:
    """The Splink settings (link requests to record versions; untrained)."""
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=[_blocking_rule(r) for _, r in BLOCKING_RULES],
        probability_two_random_records_match=prior,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=list(EXTRA_COLUMNS),
        linker_uid="taxgate",
    )


def settings_for(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The code's settings rendered for ``dialect`` with a saved model's trained parameters.

    A saved model's SQL is written in the dialect it was trained on; rebuilding the
    settings per engine and copying m, u and the prior keeps one model for every engine.
    """
    built: dict[str, Any] = settings().get_settings(dialect).as_dict()
    built["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    saved = {c["output_column_name"]: c for c in model["comparisons"]}
    for comp in built["comparisons"]:
        levels = saved[comp["output_column_name"]]["comparison_levels"]
        for new, old in zip(comp["comparison_levels"], levels, strict=True):
            for key in ("m_probability", "u_probability"):
                if key in old:
                    new[key] = old[key]
    return built


def tf_columns(built: dict[str, Any]) -> tuple[str, ...]:
    """Columns with term-frequency adjustments in rendered settings (``settings_for``)."""
    cols = {
        str(level["tf_adjustment_column"])
        for comp in built["comparisons"]
        for level in comp["comparison_levels"]
        if level.get("tf_adjustment_column")
    }
    return tuple(sorted(cols))


def register_term_frequencies(
    linker: Any, eng: Engine, versions: Path, built: dict[str, Any]
) -> None:
    """Give ``linker`` term-frequency lookups computed from the record versions only.

    ``built`` is the linker's settings as a dict; its TF columns get a lookup each.
    """
    for col, path in term_frequency_tables(versions, tf_columns(built)).items():
        table = eng.register(path, f"tf_{col}")
        linker.table_management.register_term_frequency_lookup(table, col)


def meta_path(work_model: Path) -> Path:
    return work_model.with_name(work_model.name + ".meta.json")


class SplinkNotes(logging.Handler):
    """Splink's warnings during training, kept instead of printed.

    Splink warns once per comparison level it could not train ("not observed in dataset,
    unable to train m value"); such a level keeps its starting value. :meth:`summary`
    turns them into one line.
    """

    _LEVEL = re.compile(r"Level (.+?) on comparison (\S+) not observed.*unable to train (\w) value")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.untrained: list[tuple[str, str, str]] = []  # (comparison, level, m or u)
        self.other = 0

    def emit(self, record: logging.LogRecord) -> None:
        found = self._LEVEL.search(" ".join(record.getMessage().split()))
        if found:
            self.untrained.append((found[2], found[1], found[3]))
        else:
            self.other += 1

    @contextmanager
    def capturing(self) -> Iterator[SplinkNotes]:
        log = logging.getLogger("splink")
        propagate = log.propagate
        log.addHandler(self)
        log.propagate = False
        try:
            yield self
        finally:
            log.removeHandler(self)
            log.propagate = propagate

    def summary(self) -> tuple[str, ...]:
        """One line per kind of warning (none when Splink had nothing to say).

        >>> n = SplinkNotes()
        >>> n.untrained = [("dob", "All other comparisons", "m"), ("zip5", "Exact", "u")]
        >>> print(n.summary()[0][:60])
        2 comparison levels were never seen in the training pairs an
        """
        out = []
        if self.untrained:
            which = "; ".join(f"{c}: {lv} ({mu})" for c, lv, mu in self.untrained)
            n = len(self.untrained)
            out.append(
                f"{n} comparison level{'s were' if n > 1 else ' was'} never seen in the "
                f"training pairs and keep{'' if n > 1 else 's'} {'their' if n > 1 else 'its'} "
                f"starting value{'s' if n > 1 else ''} ({which})"
            )
        if self.other:
            out.append(f"Splink gave {self.other} other warning(s) while training")
        return tuple(out)


def train_model(
    records: Path,
    work_model: Path,
    seed: int = 42,
    engine: str = "duckdb",
    progress: Progress | None = None,
    *,
    u_pairs: float = 3e7,
    sample: int = 100_000,
    spark_master: str = "local[2]",
    notes: SplinkNotes | None = None,
) -> ModelInfo:
    """Train the model on ``records`` and save it (Splink JSON) at ``work_model``.

    Args:
        records: taxpayer-year rows (Parquet or CSV, ``RECORD_COLUMNS``).
        work_model: where the model JSON goes; ``<work_model>.meta.json`` holds its version.
        seed: makes the sample, the simulated variation and u sampling reproducible.
        engine: ``duckdb`` or ``spark``.
        progress: called with (stage, fraction done).
        u_pairs: record pairs sampled for u (SPLINK5.md: too few misses rare agreements).
        sample: taxpayer-year rows turned into training requests.
        spark_master: Spark master URL when ``engine="spark"``.
        notes: collects Splink's warnings (otherwise they are dropped, never printed).

    Returns:
        The saved model's :class:`ModelInfo`.
    """
    with (notes or SplinkNotes()).capturing():
        return _train(records, work_model, seed, engine, progress, u_pairs, sample, spark_master)


def _train(
    records: Path,
    work_model: Path,
    seed: int,
    engine: str,
    progress: Progress | None,
    u_pairs: float,
    sample: int,
    spark_master: str,
) -> ModelInfo:
    from splink import Linker, block_on

    say = progress or (lambda _s, _f: None)
    start = time.monotonic()
    work = work_model.parent / "matching_work"
    say("standardising records", 0.0)
    versions = prepare_records(records, work)
    eng = open_engine(engine, work, spark_master)
    say("building training requests", 0.15)
    train_req = training_requests(eng.con, records, work / "train_requests.parquet", seed, sample)
    counted = eng.con.execute(f"SELECT count(*) FROM read_parquet({literal(versions)})")
    (n_versions,) = counted.fetchone() or (0,)
    left = eng.register(train_req, "requests")
    right = eng.register(versions, "taxpayer_records")
    untrained = settings(1.0 / max(n_versions, 1)).get_settings(eng.dialect).as_dict()
    linker = Linker([left, right], untrained, log_level=None)
    register_term_frequencies(linker, eng, versions, untrained)
    say("estimating u by random sampling", 0.25)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    say("estimating m by EM (address blocking)", 0.6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("zip5", "house_number"), max_pairs=2e6
    )
    say("estimating m by EM (date of birth blocking)", 0.8)
    # on the agreement patterns' counts, without term frequencies: each of its 25 iterations
    # otherwise went over two million pairs (15.5 of 48 s at full size, now 2.5); the same
    # decisions on the replay's 128,000-request world, and at full size 379 of 656,035
    # disclosures sent to review instead, none wrong (bench/notes/replay.md)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob", "first_init"), max_pairs=2e6, estimate_without_term_frequencies=True
    )
    model = linker.misc.save_model_to_json()
    model["probability_two_random_records_match"] = 1.0 / max(n_versions, 1)
    text = json.dumps(_rounded(model), indent=2, sort_keys=True) + "\n"
    work_model.parent.mkdir(parents=True, exist_ok=True)
    work_model.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    trained_at = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    info = ModelInfo(
        path=work_model,
        version=f"{digest[:12]}-{trained_at}",
        sha256=digest,
        trained_at=trained_at,
        seed=seed,
        engine=engine,
        record_versions=n_versions,
        training_pairs_u=u_pairs,
        seconds=round(time.monotonic() - start, 2),
    )
    meta = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(info).items()}
    meta_path(work_model).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    eng.close()
    say("model saved", 1.0)
    return info


def load_model(work_model: Path) -> ModelInfo:
    """Read a saved model's :class:`ModelInfo`; checks the JSON still hashes to its version."""
    try:
        meta = json.loads(meta_path(work_model).read_text(encoding="utf-8"))
        text = work_model.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise StoreError(f"no trained matching model at `{work_model}`") from exc
    if hashlib.sha256(text.encode()).hexdigest() != meta.get("sha256"):
        raise StoreError(f"matching model `{work_model}` does not match its recorded version")
    meta["path"] = work_model
    return ModelInfo(**meta)


def _rounded(value: Any) -> Any:
    """Round floats to 10 significant digits so equal training gives byte-equal JSON."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
