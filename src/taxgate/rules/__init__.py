"""The statute as code: a versioned rulebook and a pure evaluator of requests.

``rulebook`` compiles ``rulebook.yaml``; ``statutes`` holds the statute catalog; ``names``,
``address``, ``periods`` and ``reasons`` hold one rule family each; ``evaluate`` judges a
batch (per-request checks streamed, then batch-level counts).
"""

from taxgate.rules.evaluate import (
    CHECKED_RULES,
    BatchContext,
    History,
    case_key,
    evaluate_batch,
    evaluate_stream,
    officer_key,
    reason_key,
)
from taxgate.rules.rulebook import (
    MatchingThresholds,
    Rulebook,
    compile_rulebook,
    load_rulebook,
)
from taxgate.rules.statutes import Statute, StatuteCatalog, load_statutes, normalise_citation

__all__ = [
    "CHECKED_RULES",
    "BatchContext",
    "History",
    "MatchingThresholds",
    "Rulebook",
    "Statute",
    "StatuteCatalog",
    "case_key",
    "compile_rulebook",
    "evaluate_batch",
    "evaluate_stream",
    "load_rulebook",
    "load_statutes",
    "normalise_citation",
    "officer_key",
    "reason_key",
]
