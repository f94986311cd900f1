"""Match evidence: which comparison level each field reached and what it weighed.

Evidence carries levels, weights and the blocking rule, never the compared values nor
the candidates' TINs, so it can sit in a decision record (and ``decisions.jsonl``, and
an auditor's view) without copying anyone's name, address or TIN into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from taxgate.rules.identity import ELEMENTS

from .splink_model import BLOCKING_RULES


@dataclass(frozen=True, slots=True)
class Levels:
    """Comparison level labels by comparison name and gamma value, read from a model."""

    labels: dict[str, dict[int, str]]

    @classmethod
    def from_model(cls, model: dict[str, Any]) -> Levels:
        """Splink numbers non-null levels from n-1 (first listed) down to 0; null is -1."""
        labels: dict[str, dict[int, str]] = {}
        for comp in model.get("comparisons", []):
            levels = comp.get("comparison_levels", [])
            real = [lv for lv in levels if not lv.get("is_null_level")]
            by_gamma = {
                len(real) - 1 - i: str(lv.get("label_for_charts", "")) for i, lv in enumerate(real)
            }
            by_gamma[-1] = "null"
            labels[str(comp.get("output_column_name"))] = by_gamma
        return cls(labels)


#: Comparison entries are few distinct values repeated across millions of requests; one
#: shared (read-only) dict per distinct entry keeps a large batch's evidence small.
_ENTRIES: dict[tuple[str, int, float, float | None], dict[str, object]] = {}
_MAX_ENTRIES = 1_000_000


def evidence_for(pair: dict[str, Any], levels: Levels, agg: Mapping[str, Any]) -> dict[str, object]:
    """Evidence for one candidate taxpayer from its shown scored pair.

    ``agg`` is the candidate's aggregated row (``tin``, ``p_all`` and, for competing
    candidates, ``p_ok``, ``p_rev``, ``p_id``). Besides Splink's comparison levels and
    weights, ``elements`` gives each identity element's agreement level, ``vetoes`` the
    elements whose level the rulebook refuses and ``discrepancies`` those it sends to a
    reviewer.
    """
    comparisons: dict[str, object] = {}
    for name, by_gamma in levels.labels.items():
        gamma = pair.get(f"gamma_{name}")
        if gamma is None:
            continue
        mw = round(float(pair.get(f"mw_{name}") or 0.0), 4)
        tf = pair.get(f"mw_tf_adj_{name}")
        tf_w = None if tf is None else round(float(tf), 4)
        entry_key = (name, int(gamma), mw, tf_w)
        entry = _ENTRIES.get(entry_key)
        if entry is None:
            entry = {"level": by_gamma.get(int(gamma), str(gamma)), "gamma": int(gamma),
                     "match_weight": mw}  # fmt: skip
            if tf_w is not None:
                entry["term_frequency_weight"] = tf_w
            if len(_ENTRIES) < _MAX_ENTRIES:
                _ENTRIES[entry_key] = entry
        comparisons[name] = entry
    key = pair.get("match_key")
    rule = BLOCKING_RULES[int(key)][0] if key is not None else None
    p_ok, p_rev = agg.get("p_ok"), agg.get("p_rev")
    return {  # never the candidate's TIN: the store keeps it beside the decision
        "probability": float(agg["p_all"]),
        "address_probability": None if p_ok is None else float(p_ok),
        "review_probability": None if p_rev is None else float(p_rev),
        "identity_probability": None if agg.get("p_id") is None else float(agg["p_id"]),
        "address_in_requested_years": p_rev is not None,
        "match_weight": None if not pair else round(float(pair["match_weight"]), 4),
        "blocking_rule": rule,
        "elements": {e: pair[f"lv_{e}"] for e in ELEMENTS if pair.get(f"lv_{e}") is not None},
        "vetoes": list(pair.get("vetoes") or []),
        "discrepancies": list(pair.get("discrepancies") or []),
        "comparisons": comparisons,
    }
