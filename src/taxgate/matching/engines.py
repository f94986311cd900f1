"""The engines Splink runs on, behind one small interface: DuckDB (default) and Spark.

Standardisation and decisions always run in DuckDB (they are cheap and local); only the
Splink work (training, blocking, scoring) runs on the chosen engine. Inputs reach the
engine as Parquet files and results come back as Parquet, so a Spark cluster given by
master URL needs those paths on a shared file system. Callers see only :class:`Engine`;
tests/matching/test_engines.py runs one conformance suite against each implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from taxgate.errors import UsageError
from taxgate.sqltext import literal

ENGINES: tuple[str, ...] = ("duckdb", "spark")


class Engine(ABC):
    """A Splink database API, how Parquet goes in and results come out, and a local DuckDB
    connection (``con``) for the SQL taxgate runs itself."""

    name: ClassVar[str]
    dialect: ClassVar[str]  # Splink's SQL dialect

    def __init__(self, db_api: Any, con: duckdb.DuckDBPyConnection) -> None:
        self.db_api = db_api
        self.con = con

    @abstractmethod
    def register(self, parquet: Path, name: str) -> Any:
        """Register a Parquet file (or folder of them) as a Splink input table ``name``;
        returns Splink's data frame for it."""

    @abstractmethod
    def export(self, splink_df: Any, out: Path) -> None:
        """Write a Splink result table as Parquet at ``out`` (a file, or a folder of
        files; :func:`taxgate.matching.match.parquet_source` reads either)."""

    def close(self) -> None:
        """Release what this engine holds (a shared Spark session stays up for reuse)."""
        self.con.close()


class DuckDBEngine(Engine):
    name = "duckdb"
    dialect = "duckdb"

    def register(self, parquet: Path, name: str) -> Any:
        physical = f"tg_in_{name}"
        self.con.execute(
            f"CREATE OR REPLACE TABLE {physical} AS SELECT * FROM read_parquet({literal(parquet)})"
        )
        return self.db_api.register(physical, dataset_display_name=name)

    def export(self, splink_df: Any, out: Path) -> None:
        self.con.execute(
            f"COPY (SELECT * FROM {splink_df.physical_name}) TO {literal(out)} (FORMAT parquet)"
        )


class SparkEngine(Engine):
    name = "spark"
    dialect = "spark"

    def __init__(self, db_api: Any, con: duckdb.DuckDBPyConnection, spark: Any) -> None:
        super().__init__(db_api, con)
        self.spark = spark

    def register(self, parquet: Path, name: str) -> Any:
        # the session outlives one job (training then matching in one process): a view
        # left by the earlier job under this name is replaced, not an error
        self.spark.catalog.dropTempView(name)
        frame = self.spark.read.parquet(str(parquet))
        return self.db_api.register(frame, dataset_display_name=name)

    def export(self, splink_df: Any, out: Path) -> None:
        splink_df.as_spark_dataframe().write.mode("overwrite").parquet(str(out))


def open_engine(
    name: str, workdir: Path, spark_master: str = "local[2]", threads: int | None = None
) -> Engine:
    """Open ``duckdb`` or ``spark`` (a local or remote master URL) for Splink work."""
    from splink import DuckDBAPI

    if name not in ENGINES:
        raise UsageError(f"unknown matching engine `{name}`: use one of {', '.join(ENGINES)}")
    workdir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET temp_directory = {literal(workdir / 'duckdb_tmp')}")
    con.execute(f"SET memory_limit = {literal(memory_budget(0.25))}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if name == "duckdb":
        return DuckDBEngine(DuckDBAPI(connection=con), con)
    from splink import SparkAPI

    spark = spark_session(spark_master, workdir)
    return SparkEngine(SparkAPI(spark_session=spark), con, spark)  # type: ignore[no-untyped-call]


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
