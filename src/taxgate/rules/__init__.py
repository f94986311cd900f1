"""The statute as code: a versioned rulebook and a pure evaluator of requests.

``rulebook`` compiles ``rulebook.yaml``; ``statutes`` holds the statute catalog; ``names``,
``address``, ``periods`` and ``reasons`` hold one rule family each; ``evaluate`` judges a
batch (per-request checks streamed, then batch-level counts).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from taxgate.rules.checks import case_key
from taxgate.rules.names import officer_key
from taxgate.rules.rulebook import (
    MatchingThresholds,
    Rulebook,
    compile_rulebook,
    load_rulebook,
)
from taxgate.rules.statutes import Statute, StatuteCatalog, load_statutes, normalise_citation

if TYPE_CHECKING:
    from taxgate.rules.evaluate import (
        CHECKED_RULES,
        BatchContext,
        History,
        evaluate_batch,
        evaluate_stream,
    )
    from taxgate.rules.reasons import reason_key


def __getattr__(name: str) -> Any:
    """The evaluator pulls in numpy and pyarrow (the near-duplicate reasons); a command that
    only reads the rulebook should not pay for them, so its names load on first use."""
    if name in __all__:
        module = "taxgate.rules.reasons" if name == "reason_key" else "taxgate.rules.evaluate"
        return getattr(import_module(module), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
