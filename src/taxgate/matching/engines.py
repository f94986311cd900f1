"""The engines Splink runs on, behind one small interface: DuckDB (default) and Spark.

Standardisation and decisions always run in DuckDB (they are cheap and local); only the
Splink work (training, blocking, scoring) runs on the chosen engine. Inputs reach the
engine as Parquet files and predictions come back as Parquet, so a Spark cluster given by
master URL needs those paths on a shared file system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from taxgate.errors import UsageError

ENGINES: tuple[str, ...] = ("duckdb", "spark")


@dataclass
class Engine:
    """A Splink database API plus how to move Parquet in and predictions out."""

    name: str
    db_api: Any
    con: duckdb.DuckDBPyConnection
    spark: Any = None
    _registered: list[str] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        """Splink's SQL dialect for this engine."""
        return "spark" if self.spark is not None else "duckdb"

    def register(self, parquet: Path, name: str) -> Any:
        """Register a Parquet file as a Splink input table named ``name``."""
        if self.spark is not None:
            # the session outlives one job (training then matching in one process):
            # a view left by the earlier job under this name is replaced, not an error
            self.spark.catalog.dropTempView(name)
            frame = self.spark.read.parquet(str(parquet))
            return self.db_api.register(frame, dataset_display_name=name)
        physical = f"tg_in_{name}"
        self.con.execute(
            f"CREATE OR REPLACE TABLE {physical} AS SELECT * FROM read_parquet('{parquet}')"
        )
        return self.db_api.register(physical, dataset_display_name=name)

    def export(self, splink_df: Any, out: Path) -> None:
        """Write a Splink result table to Parquet at ``out``."""
        if self.spark is not None:
            splink_df.as_spark_dataframe().write.mode("overwrite").parquet(str(out))
            return
        self.con.execute(
            f"COPY (SELECT * FROM {splink_df.physical_name}) TO '{out}' (FORMAT parquet)"
        )


def open_engine(
    name: str, workdir: Path, spark_master: str = "local[2]", threads: int | None = None
) -> Engine:
    """Open ``duckdb`` or ``spark`` (a local or remote master URL) for Splink work."""
    from splink import DuckDBAPI

    workdir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{workdir / 'duckdb_tmp'}'")
    con.execute(f"SET memory_limit = '{memory_budget(0.25)}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if name == "duckdb":
        return Engine(name, DuckDBAPI(connection=con), con)
    if name == "spark":
        from splink import SparkAPI

        spark = spark_session(spark_master, workdir)
        api = SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]
        return Engine(name, api, con, spark=spark)
    raise UsageError(f"unknown matching engine `{name}`: use one of {', '.join(ENGINES)}")


def memory_budget(share: float) -> str:
    """``share`` of physical memory as a DuckDB size (it spills to disk beyond it)."""
    import os

    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        total = 8 << 30
    return f"{max(int(total * share) >> 20, 256)}MB"


def spark_session(master: str, workdir: Path) -> Any:
    """Get or create a SparkSession for ``master`` with a checkpoint directory Splink needs."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (
        SparkSession.builder.master(master)
        .config("spark.jars", similarity_jar_location())
        .appName("taxgate-matching")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setCheckpointDir(str(workdir / "spark_checkpoints"))
    return spark
