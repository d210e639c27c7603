"""Helpers for dbt integration tests (import them; fixtures live in conftest)."""

from __future__ import annotations

from pathlib import Path

from opsledger.build import BuildResult, build_warehouse


def release_build_db() -> None:
    """dbt runs in-process and dbt-duckdb keeps its DuckDB instance (read-write)
    open after the build; close it so tests can open the file read-only."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
        DuckDBConnectionManager._ENV = None


def build(home: Path, **kwargs) -> BuildResult:
    """build_warehouse, then release the build database."""
    try:
        return build_warehouse(home, **kwargs)
    finally:
        release_build_db()
