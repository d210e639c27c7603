"""Build the warehouse: sync raw events into the build database, then dbt build."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from models import load_domain
from opsledger.dbt_project import DbtOutcome, run_dbt
from opsledger.paths import HomePaths
from opsledger.raw_sync import sync_raw

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


def build_warehouse(
    home: Path | str | None,
    build_db: Path | None = None,
    full_refresh: bool = False,
    memory_limit: str = "3GB",
    select: list[str] | None = None,
    unit_tests: bool = False,
) -> BuildResult:
    """dbt build on the build database. Unit tests check SQL logic, not data, so a
    refresh skips them (the test suite runs them); data tests always run."""
    paths = HomePaths.at(home)
    build_db = build_db or paths.root / "build.duckdb"
    work_dir = paths.builds / "dbt"
    work_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    con = duckdb.connect(str(build_db))
    try:
        con.execute("set TimeZone = 'UTC'")
        raw_rows = sync_raw(con, paths.raw_db) if paths.raw_db.exists() else {}
        ensure_raw_tables(con)
        con.execute("checkpoint")
    finally:
        con.close()
    timings["sync_raw"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *select]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    outcome = run_dbt(args, build_db=build_db, work_dir=work_dir, memory_limit=memory_limit)
    timings["dbt_build"] = round(time.perf_counter() - started, 3)
    return BuildResult(build_db=build_db, dbt=outcome, raw_rows=raw_rows, timings=timings)
