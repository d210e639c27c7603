"""The Apache Spark engine: a local SparkSession whose `raw` schema reads the Parquet
export of the raw layer (opsledger.raw_export), for dbt-spark's `session` method.

dbt-spark's session method takes SparkSession.builder.getOrCreate(): the session
this module starts in the same process (with its warehouse folder, metastore and
`raw` views) is the one dbt builds in. Needs the `spark` extra (make install-spark)
and Java 17.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from opsledger.core.paths import HomePaths
from opsledger.raw_export import SCHEMA_DIR
from opsledger.raw_sync import BOOKKEEPING_TABLES, event_tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPARK_DIR = "spark"  # under <home>/builds/: warehouse files and the metastore
FILES_DATABASE = "raw_files"  # tables over the Parquet files; `raw` holds views of them
HOME_CONF = "spark.opsledger.home"  # the Spark folder of the home this session builds


def spark_dir(home: Path | str | None) -> Path:
    return HomePaths.at(home).builds / SPARK_DIR


def spark_session(
    home: Path | str | None,
    master: str | None = None,
    driver_memory: str | None = None,
    shuffle_partitions: int | None = None,
) -> SparkSession:
    """The process's SparkSession for `home`: tables under <home>/builds/spark/warehouse,
    a Derby metastore beside them (so incremental models continue across runs), UTC."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    from pyspark.sql import SparkSession

    root = spark_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    active = SparkSession.getActiveSession()
    if active is not None and active.conf.get(HOME_CONF, None) != root.as_posix():
        # one JVM keeps one metastore (Derby's system home is set at JVM start)
        raise RuntimeError(
            f"this process already runs Spark for {active.conf.get(HOME_CONF, None)!r};"
            f" a build for {root} needs a process of its own"
        )
    metastore = (root / "metastore_db").as_posix()
    builder = (
        SparkSession.builder.master(master or "local[2]")
        .appName("opsledger")
        .config(HOME_CONF, root.as_posix())
        .config("spark.driver.memory", driver_memory or "2g")
        .config(
            "spark.sql.shuffle.partitions",
            str(shuffle_partitions or 2),
        )
        .config("spark.sql.warehouse.dir", (root / "warehouse").as_posix())
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={metastore};create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={root.as_posix()}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "true")
        .enableHiveSupport()
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # pyspark logs every failed statement with its stack; dbt-spark probes relations
    # that do not exist yet by design, and dbt reports the errors that matter
    # (a PySparkLogger: pyspark logs to it with arguments a plain Logger rejects)
    from pyspark.logger import PySparkLogger

    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


def register_raw_sources(spark: SparkSession, home: Path | str | None) -> dict[str, int]:
    """Create `raw.<table>` in the session over <home>/raw_parquet: an external table
    per raw table (partitions recovered from the batch folders) and a view with the
    columns of raw.* in their order, revoked events left out (as raw_sync drops them
    from the DuckDB build). Returns the partitions (batches) each table has."""
    root = HomePaths.at(home).root / "raw_parquet"
    spark.sql(f"create database if not exists {FILES_DATABASE}")
    spark.sql("create database if not exists raw")
    batches: dict[str, int] = {}
    tables = [*event_tables(), *BOOKKEEPING_TABLES]
    for table in tables:
        schema_file = root / SCHEMA_DIR / f"{table}.parquet"
        if not schema_file.exists():
            continue
        schema = spark.read.parquet(schema_file.as_posix()).schema
        location = (root / table).as_posix()
        (root / table).mkdir(parents=True, exist_ok=True)
        files_table = f"{FILES_DATABASE}.{table}"
        spark.sql(f"drop table if exists {files_table}")  # external: the files stay
        partitioned = table not in BOOKKEEPING_TABLES
        columns = ", ".join(
            f"`{f.name}` {f.dataType.simpleString()}"
            for f in schema.fields
            if not (partitioned and f.name == "batch_id")
        )
        if partitioned:
            spark.sql(
                f"create table {files_table} ({columns}, batch_id string) using parquet "
                f"partitioned by (batch_id) location '{location}'"
            )
            spark.sql(f"alter table {files_table} recover partitions")
            batches[table] = spark.sql(f"show partitions {files_table}").count()
        else:
            spark.sql(f"create table {files_table} ({columns}) using parquet location '{location}'")
    revoked = "revocations" in {t for t in tables if (root / SCHEMA_DIR / f"{t}.parquet").exists()}
    for table in tables:
        if not (root / SCHEMA_DIR / f"{table}.parquet").exists():
            continue
        order = [
            f"`{f.name}`"
            for f in spark.read.parquet((root / SCHEMA_DIR / f"{table}.parquet").as_posix()).schema
        ]
        where = ""
        if revoked and table not in BOOKKEEPING_TABLES:
            where = (
                f" where event_id not in (select event_id from {FILES_DATABASE}.revocations"
                " where event_id is not null)"
            )
        spark.sql(
            f"create or replace view raw.{table} as select {', '.join(order)} "
            f"from {FILES_DATABASE}.{table}{where}"
        )
    return batches
