"""Synthetic worlds: taxpayer records and request batches with ground truth.

``write_records`` draws a world of taxpayers (families, Jr/Sr pairs, movers,
very common names, diacritics) and writes it as CSV or Parquet;
``write_batch`` draws a request batch against such a records file, with a
ground-truth file saying what each request should come to.
"""

from __future__ import annotations

from taxgate.synth.batch import BatchStats, write_batch
from taxgate.synth.records import RecordsStats, write_records

__all__ = ["BatchStats", "RecordsStats", "write_batch", "write_records"]
