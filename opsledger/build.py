"""Build the warehouse: sync raw events into the build database, then dbt build."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from opsledger.core.paths import HomePaths
from opsledger.core.settings import build_memory_limit, load_settings
from opsledger.dbt_project import (
    AUDIT_BUILD,
    AUDIT_FULL,
    DbtOutcome,
    project_fingerprint,
    run_dbt,
)
from opsledger.ingest.schema import FILES_DDL
from opsledger.models import load_domain
from opsledger.raw_sync import REVOKED_KEY, sync_raw

RAW_BOOKKEEPING_COLUMNS = (
    ("batch_id", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("line_number", "BIGINT"),
    ("ingested_at", "TIMESTAMPTZ"),
)


@dataclass
class BuildResult:
    build_db: Path
    dbt: DbtOutcome
    raw_rows: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    full_refresh: bool = False
    build_id: str | None = None  # written into the incremental tables' _build_id
    audit: str = AUDIT_FULL  # what the data tests read: AUDIT_FULL or AUDIT_BUILD

    @property
    def success(self) -> bool:
        return self.dbt.success


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create empty contract-shaped raw tables for sources nothing was loaded from yet,
    so a fresh or partial home still builds (to an empty warehouse)."""
    domain = load_domain()
    con.execute("create schema if not exists raw")
    for source in domain.sources:
        columns = [
            f"{name} {domain.fields[name].sql_type}" for name in domain.source_fields(source)
        ]
        columns += [f"{name} {sql_type}" for name, sql_type in RAW_BOOKKEEPING_COLUMNS]
        con.execute(f"create table if not exists raw.{source}_events ({', '.join(columns)})")
    con.execute(FILES_DDL)  # the landing files' ledger (stg_ingest__landing_files reads it)


def sync_build_raw(build_db: Path, raw_db: Path) -> dict[str, int]:
    """Bring the build database's raw schema up to date with ingest's (raw_sync) and
    give every source a table (ensure_raw_tables), checkpointed: what either engine
    builds from. Returns the rows per raw table (raw_sync.sync_raw)."""
    con = duckdb.connect(str(build_db))
    try:
        con.execute("set TimeZone = 'UTC'")
        raw_rows = sync_raw(con, raw_db) if raw_db.exists() else {}
        ensure_raw_tables(con)
        con.execute("checkpoint")
        return raw_rows
    finally:
        con.close()


# A build that continues one of the same project keeps its views and seeds: they
# are the same definitions and the same seed files (the fingerprint covers them).
# Their data tests still run (`empty`: excluding a node does not exclude its tests),
# and the staging tests check the new raw rows.
CONTINUED_BUILD_SELECTION = [
    "--select",
    "fqn:*",
    "--exclude",
    "config.materialized:view",
    "resource_type:seed",
    "--indirect-selection",
    "empty",
]


def dbt_build_args(full_refresh: bool, select: list[str] | None = None) -> list[str]:
    """`dbt build`'s arguments for a build of the warehouse, on any engine: a full
    refresh, a selection as asked, or a continued build (CONTINUED_BUILD_SELECTION);
    never the unit tests (they check SQL logic, not data)."""
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *select]
    elif not full_refresh:
        args += CONTINUED_BUILD_SELECTION
    return [*args, "--exclude-resource-type", "unit_test"]


def _built_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The project fingerprint the tables in this database were built with."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'ops' and table_name = 'dbt_project'"
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute("select fingerprint from ops.dbt_project").fetchone()
    return row[0] if row else None


def record_fingerprint(build_db: Path, fingerprint: str) -> None:
    con = duckdb.connect(str(build_db))
    try:
        con.execute("create schema if not exists ops")
        con.execute(
            "create or replace table ops.dbt_project (fingerprint varchar, built_at timestamp)"
        )
        con.execute("insert into ops.dbt_project values (?, current_timestamp)", [fingerprint])
    finally:
        con.close()


def build_warehouse(
    home: Path | str | None,
    build_db: Path | None = None,
    full_refresh: bool = False,
    memory_limit: str | None = None,
    select: list[str] | None = None,
    build_id: str | None = None,
    full_audit: bool = True,
) -> BuildResult:
    """dbt build on the build database: models and data tests. Unit tests check SQL
    logic, not data, so a build skips them; the test suite runs them after building
    (`dbt test --select test_type:unit`: a unit test of an incremental run needs
    the model's table). The build is a full refresh when asked, or when a whole
    build continues a database built by another version of the dbt project (see
    project_fingerprint).

    build_id names the rows this build writes (`_build_id`; default dbt's invocation
    id). full_audit=False: a continued build's data tests check what it wrote
    (dbt/macros/build_audit.sql); a full refresh audits every row whatever is asked.
    memory_limit: DuckDB's for this build (default: the home's `[build] memory_limit`,
    opsledger.core.settings; a bad value raises SettingsError before anything runs)."""
    paths = HomePaths.at(home)
    memory_limit = build_memory_limit(load_settings(paths.root), memory_limit)
    build_db = build_db or paths.root / "build.duckdb"
    work_dir = paths.builds / "dbt"
    work_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    raw_rows = sync_build_raw(build_db, paths.raw_db)
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        fingerprint = project_fingerprint()
        # a selection (tests, one model) runs as asked
        full_refresh = full_refresh or (not select and _built_fingerprint(con) != fingerprint)
        # revoked events left raw: incremental models only see additions, so the
        # next build rebuilds everything they may have touched
        full_refresh = full_refresh or (not select and raw_rows.get(REVOKED_KEY, 0) > 0)
    finally:
        con.close()
    timings["sync_raw"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    args = dbt_build_args(full_refresh, select)
    audit = AUDIT_FULL if full_audit or full_refresh else AUDIT_BUILD
    outcome = run_dbt(
        args,
        build_db=build_db,
        work_dir=work_dir,
        memory_limit=memory_limit,
        build_id=build_id,
        audit=audit,
    )
    # the tables are this code's once every model built (failed data tests do
    # not change that; a refresh discards such a build anyway)
    models = [r for r in outcome.results if r["resource_type"] == "model"]
    if not select and outcome.error is None and all(r["status"] == "success" for r in models):
        record_fingerprint(build_db, fingerprint)
    timings["dbt_build"] = round(time.perf_counter() - started, 3)
    return BuildResult(
        build_db=build_db,
        dbt=outcome,
        raw_rows=raw_rows,
        timings=timings,
        full_refresh=full_refresh,
        build_id=build_id,
        audit=audit,
    )
