"""Build the dbt project on Apache Spark (dbt-spark, session method) in this process,
then bring what it built into the DuckDB build copy that the refresh audits and
publishes as `<home>/warehouse.duckdb`, so every client reads a Spark build as it
reads a DuckDB one. Needs the `spark` extra (make install-spark) and Java 17.

1. the copy's raw layer, synced from raw.duckdb as a DuckDB build has it (the app
   reads raw.quarantine and raw.ingest_files, drill-through the raw events);
2. the raw layer exported as Parquet (opsledger.raw_export), the SparkSession with
   `raw` views over it (opsledger.spark), dbt build with the `spark` target: models,
   seeds and data tests (the audit), incremental where Spark's tables continue;
3. the publication's tables: dbt builds every node on DuckDB with `--empty` (the
   same DDL, contracts and comments as a DuckDB build, zero rows; views and seeds
   whole), then each table takes the rows Spark wrote (its Parquet files), cast to
   the DuckDB columns by name. The stored failures of the data tests (schema
   `audit`) are copied as they are.

Spark's tables live under <home>/builds/spark/ and continue from one build to the
next; a build that did not publish (failed, or its audit did) leaves a state the
publication does not have, so the next build on Spark is a full refresh.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from opsledger.build import BuildResult, dbt_build_args, sync_build_raw
from opsledger.core.paths import HomePaths
from opsledger.dbt_project import AUDIT_BUILD, AUDIT_FULL, project_fingerprint, run_dbt
from opsledger.raw_export import export_raw
from opsledger.raw_sync import REVOKED_KEY
from opsledger.spark import register_raw_sources, spark_dir, spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINE = "spark"
STATE_FILE = "state.json"  # the Spark tables' project fingerprint, once a build published
# Spark's databases holding dbt's tables (views are made on DuckDB by the empty build)
BUILT_DATABASES = ("intermediate", "marts")  # seeds: the empty build loads the same files
AUDIT_DATABASE = "audit"  # data tests' stored failures


def _state_path(home: Path) -> Path:
    return spark_dir(home) / STATE_FILE


def published_state(home: Path) -> dict:
    """What keep_state recorded of the published Spark build ({} when none)."""
    try:
        return json.loads(_state_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def continued_fingerprint(home: Path) -> str | None:
    """The project fingerprint Spark's tables were built with, when they are those of
    a publication (None: no such state, build from scratch)."""
    return published_state(home).get("fingerprint")


def keep_state(home: Path, build_id: str) -> None:
    """The build was published: its Spark tables are the ones to continue from."""
    state = {"fingerprint": project_fingerprint(), "build_id": build_id}
    target = _state_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    tmp.replace(target)


def discard_state(home: Path) -> None:
    """The build did not publish: the next Spark build rebuilds every table."""
    _state_path(home).unlink(missing_ok=True)


def build_on_spark(
    home: Path | str | None,
    build_db: Path,
    full_refresh: bool = False,
    build_id: str | None = None,
    full_audit: bool = True,
    memory_limit: str = "3GB",
) -> BuildResult:
    """dbt build on Spark, then the publication's tables in `build_db` (see the module).
    A full refresh when asked, when Spark's tables are not those of a publication of
    this project, or when events were revoked (as on DuckDB)."""
    paths = HomePaths.at(home)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    raw_rows = sync_build_raw(build_db, paths.raw_db)
    con = duckdb.connect(str(build_db))
    try:
        # a Spark publication is not a DuckDB build to continue: the next DuckDB
        # build of this home starts from scratch (opsledger.build)
        con.execute("drop table if exists ops.dbt_project")
        con.execute("checkpoint")
    finally:
        con.close()
    export_raw(paths.root)
    timings["sync_raw"] = round(time.perf_counter() - started, 3)

    full_refresh = (
        full_refresh
        or continued_fingerprint(paths.root) != project_fingerprint()
        or raw_rows.get(REVOKED_KEY, 0) > 0
    )
    discard_state(paths.root)  # until this build is published

    started = time.perf_counter()
    spark = spark_session(paths.root)
    register_raw_sources(spark, paths.root)
    timings["spark_sources"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    audit = AUDIT_FULL if full_audit or full_refresh else AUDIT_BUILD
    outcome = run_dbt(
        dbt_build_args(full_refresh),
        build_db=build_db,
        work_dir=spark_dir(paths.root) / "dbt",
        memory_limit=memory_limit,
        build_id=build_id,
        audit=audit,
        target=ENGINE,
    )
    timings["dbt_build"] = round(time.perf_counter() - started, 3)
    result = BuildResult(
        build_db=build_db,
        dbt=outcome,
        raw_rows=raw_rows,
        timings=timings,
        full_refresh=full_refresh,
        build_id=build_id,
        audit=audit,
    )
    models = [r for r in outcome.results if r["resource_type"] == "model"]
    if outcome.error is not None or not all(r["status"] == "success" for r in models):
        return result

    started = time.perf_counter()
    shaped = run_dbt(
        ["build", "--empty", "--full-refresh", "--exclude-resource-type", "test", "unit_test"],
        build_db=build_db,
        work_dir=paths.builds / "dbt",  # the DuckDB builds' (parsed for the same profile)
        memory_limit=memory_limit,
    )
    if not shaped.success:
        result.dbt = shaped  # the publication could not be shaped: a failed build
        return result
    copy_spark_tables(spark, build_db)
    timings["publication"] = round(time.perf_counter() - started, 3)
    return result


def copy_spark_tables(spark: SparkSession, build_db: Path) -> dict[str, int]:
    """Fill the DuckDB tables of the empty build with the rows of Spark's tables of the
    same name (by column name, cast to the DuckDB column's type); copy the stored
    test failures whole. Returns the rows copied per table."""
    copied: dict[str, int] = {}
    con = duckdb.connect(str(build_db))
    try:
        con.execute("set TimeZone = 'UTC'")
        tables = {
            (schema, name)
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
                " where database_name = current_database()"
            ).fetchall()
        }
        con.execute(f"drop schema if exists {AUDIT_DATABASE} cascade")
        con.execute(f"create schema {AUDIT_DATABASE}")
        for database in (*BUILT_DATABASES, AUDIT_DATABASE):
            for table in spark.catalog.listTables(database):
                if table.tableType == "VIEW" or table.isTemporary:
                    continue
                relation = f'"{database}"."{table.name}"'
                files = spark.table(f"`{database}`.`{table.name}`").inputFiles()
                source = f"read_parquet({[Path(_local(f)).as_posix() for f in files]!r})"
                if database == AUDIT_DATABASE:
                    if files:
                        con.execute(f"create table {relation} as select * from {source}")
                    continue
                if (database, table.name) not in tables:
                    continue  # not a table on DuckDB (e.g. a view)
                if files:
                    con.execute(f"insert into {relation} by name select * from {source}")
                copied[f"{database}.{table.name}"] = con.execute(
                    f"select count(*) from {relation}"
                ).fetchone()[0]
        con.execute("checkpoint")
    finally:
        con.close()
    return copied


def _local(uri: str) -> str:
    return uri.removeprefix("file://").removeprefix("file:")
