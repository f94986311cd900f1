"""Cross-verification of accepted requests against taxpayer records (Splink 5).

Public surface: :func:`train_model`, :func:`load_model`, :func:`match_requests`,
:class:`Thresholds`, :class:`ModelInfo`, and the pure :mod:`.standardise` functions.
"""

from __future__ import annotations

from .decide import Thresholds
from .match import match_requests
from .splink_model import ModelInfo, load_model, train_model

__all__ = ["ModelInfo", "Thresholds", "load_model", "match_requests", "train_model"]
