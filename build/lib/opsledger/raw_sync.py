"""Bring the build database's `raw` schema up to date with ingest's raw.duckdb.

Event tables are append-only, so only batches the build has not seen are copied;
the small bookkeeping tables (quarantine, ingest files/batches) are replaced whole
because ingest updates them (released rows).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from opsledger.models import load_domain

BOOKKEEPING_TABLES = ("quarantine", "ingest_files", "ingest_batches", "revocations")
REVOKED_KEY = "revoked_removed"  # rows of revoked events removed from the build's raw


def event_tables() -> list[str]:
    return [f"{source}_events" for source in load_domain().sources]


def sync_raw(build: duckdb.DuckDBPyConnection, raw_db: Path) -> dict[str, int]:
    """Copy new raw rows into `build`; returns rows copied per table."""
    copied: dict[str, int] = {}
    build.execute("create schema if not exists raw")
    # ATTACH takes no parameters; quote the path as a SQL string literal.
    quoted = raw_db.as_posix().replace("'", "''")
    build.execute(f"attach '{quoted}' as raw_src (read_only)")
    try:
        present = {
            row[0]
            for row in build.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'raw_src' and schema_name = 'raw'"
            ).fetchall()
        }
        existing = {
            row[0]
            for row in build.execute(
                "select table_name from duckdb_tables() "
                "where database_name = current_database() and schema_name = 'raw'"
            ).fetchall()
        }
        for table in event_tables():
            if table not in present:
                continue
            if table not in existing:
                build.execute(f"create table raw.{table} as select * from raw_src.raw.{table}")
            else:
                _add_new_columns(build, table)
                build.execute(
                    f"insert into raw.{table} by name select * from raw_src.raw.{table} "
                    f"where batch_id not in (select distinct batch_id from raw.{table})"
                )
            copied[table] = build.execute(f"select count(*) from raw.{table}").fetchone()[0]
        # revoked events leave raw (opsledger events revoke): the build drops them too
        removed = 0
        if (
            "revocations" in present
            and build.execute("select count(*) from raw_src.raw.revocations").fetchone()[0]
        ):
            for table in event_tables():
                if table in present:
                    removed += build.execute(
                        f"delete from raw.{table} where event_id in "
                        "(select event_id from raw_src.raw.revocations)"
                    ).fetchone()[0]
        copied[REVOKED_KEY] = removed
        for table in BOOKKEEPING_TABLES:
            if table in present:
                build.execute(
                    f"create or replace table raw.{table} as select * from raw_src.raw.{table}"
                )
                copied[table] = build.execute(f"select count(*) from raw.{table}").fetchone()[0]
    finally:
        build.execute("detach raw_src")
    return copied


def _add_new_columns(build: duckdb.DuckDBPyConnection, table: str) -> None:
    """Columns ingest added to a raw table since the build copied it (contract growth)."""

    def columns(database: str) -> dict[str, str]:
        return dict(
            build.execute(
                "select column_name, data_type from duckdb_columns() where database_name = ? "
                "and schema_name = 'raw' and table_name = ?",
                [database, table],
            ).fetchall()
        )

    (current,) = build.execute("select current_database()").fetchone()
    have = columns(current)
    for name, data_type in columns("raw_src").items():
        if name not in have:
            # identifiers come from ingest's own DDL (the domain model), not from input
            build.execute(f'alter table raw.{table} add column "{name}" {data_type}')
