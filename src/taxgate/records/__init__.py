"""Taxpayer records: loading a records file into Parquet (:mod:`.load`) and reading one
taxpayer's rows back (:mod:`.lookup`)."""
