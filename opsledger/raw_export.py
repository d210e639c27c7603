"""Export ingest's raw layer as Parquet: the sources of a build on another engine (Spark).

Layout under `<home>/raw_parquet/`:

- `<source>_events/batch_id=<id>/data_0.parquet`: the event tables, one folder per
  ingest batch (hive partitioning: the batch_id column lives in the folder name, the
  other columns of `raw.<source>_events` in the file). Event tables are append-only,
  so a batch is written once; a batch folder already present is never rewritten.
- `<table>/data_0.parquet`: the small bookkeeping tables (quarantine, ingest files and
  batches, revocations), which ingest updates, replaced whole on every export.
- `_schema/<table>.parquet`: zero rows with the full column list and types of each
  raw table (batch_id included), so a reader gets every column even for a table no
  batch was loaded into yet, and batches written before the contract grew a column
  read it as null.

Every folder is written under `_tmp/` first and renamed into place (atomic on one
file system): a reader sees a batch whole or not at all. Revoked events stay in the
event files, as they stay in raw.duckdb; readers drop them (see opsledger.spark).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from opsledger.core.paths import HomePaths
from opsledger.raw_sync import BOOKKEEPING_TABLES, event_tables

EXPORT_DIR = "raw_parquet"
SCHEMA_DIR = "_schema"
TMP_DIR = "_tmp"


@dataclass
class ExportResult:
    root: Path
    batches_written: dict[str, list[str]] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)


def export_root(home: Path | str | None) -> Path:
    return HomePaths.at(home).root / EXPORT_DIR


def _quote(path: Path) -> str:
    return "'" + path.as_posix().replace("'", "''") + "'"


def _select_list(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """The relation's columns in order; JSON as text (a Parquet string any reader takes)."""
    parts = []
    for name, data_type, *_rest in con.execute(f"describe {relation}").fetchall():
        parts.append(
            f'cast("{name}" as varchar) as "{name}"' if data_type == "JSON" else f'"{name}"'
        )
    return ", ".join(parts)


def export_raw(home: Path | str | None = None) -> ExportResult:
    """Bring `<home>/raw_parquet/` up to date with raw.duckdb; returns what was written."""
    from opsledger.build import ensure_raw_tables

    paths = HomePaths.at(home)
    root = paths.root / EXPORT_DIR
    tmp_root = root / TMP_DIR
    shutil.rmtree(tmp_root, ignore_errors=True)  # a crashed export's leftovers
    (root / SCHEMA_DIR).mkdir(parents=True, exist_ok=True)
    result = ExportResult(root=root)

    con = duckdb.connect()  # in memory: raw.duckdb is ingest's, opened read-only
    try:
        con.execute("set TimeZone = 'UTC'")
        ensure_raw_tables(con)  # empty contract-shaped tables for what ingest has not made
        present: set[str] = set()
        if paths.raw_db.exists():
            con.execute(f"attach {_quote(paths.raw_db)} as raw_src (read_only)")
            present = {
                row[0]
                for row in con.execute(
                    "select table_name from duckdb_tables() "
                    "where database_name = 'raw_src' and schema_name = 'raw'"
                ).fetchall()
            }

        def relation(table: str) -> str:
            return f"raw_src.raw.{table}" if table in present else f"memory.raw.{table}"

        for table in [*event_tables(), *BOOKKEEPING_TABLES]:
            if (
                table not in present
                and not con.execute(
                    "select count(*) from duckdb_tables() where database_name = 'memory' "
                    "and schema_name = 'raw' and table_name = ?",
                    [table],
                ).fetchone()[0]
            ):
                continue  # a bookkeeping table this raw layer has none of
            source = relation(table)
            schema_file = root / SCHEMA_DIR / f"{table}.parquet"
            _write_file_atomically(
                con,
                f"select {_select_list(con, source)} from {source} limit 0",
                schema_file,
                tmp_root,
            )
            if table in BOOKKEEPING_TABLES:
                _replace_dir(
                    con, f"select {_select_list(con, source)} from {source}", root / table, tmp_root
                )
                result.rows_written[table] = con.execute(
                    f"select count(*) from {source}"
                ).fetchone()[0]
                continue
            table_dir = root / table
            table_dir.mkdir(exist_ok=True)
            done = {p.name.removeprefix("batch_id=") for p in table_dir.glob("batch_id=*")}
            batches = [
                row[0]
                for row in con.execute(
                    f"select distinct batch_id from {source} order by batch_id"
                ).fetchall()
                if row[0] not in done
            ]
            if not batches:
                continue
            staging = tmp_root / f"{table}-{uuid.uuid4().hex}"
            con.execute(
                f"copy (select {_select_list(con, source)} from {source} "
                f"where batch_id in (select unnest(?))) to {_quote(staging)} "
                "(format parquet, partition_by (batch_id), compression zstd)",
                [batches],
            )
            for batch in batches:
                written = staging / f"batch_id={batch}"
                if not written.is_dir():
                    raise RuntimeError(f"export of {table} batch {batch} wrote no folder")
                written.rename(table_dir / f"batch_id={batch}")
            rows = con.execute(
                f"select count(*) from {source} where batch_id in (select unnest(?))", [batches]
            ).fetchone()[0]
            result.batches_written[table] = batches
            result.rows_written[table] = rows
    finally:
        con.close()
        shutil.rmtree(tmp_root, ignore_errors=True)
    return result


def _write_file_atomically(
    con: duckdb.DuckDBPyConnection, query: str, target: Path, tmp_root: Path
) -> None:
    tmp_root.mkdir(parents=True, exist_ok=True)
    staged = tmp_root / f"{target.stem}-{uuid.uuid4().hex}.parquet"
    con.execute(f"copy ({query}) to {_quote(staged)} (format parquet)")
    staged.replace(target)


def _replace_dir(con: duckdb.DuckDBPyConnection, query: str, target: Path, tmp_root: Path) -> None:
    """A whole-table folder, swapped in by two renames (the old one goes to _tmp/)."""
    tmp_root.mkdir(parents=True, exist_ok=True)
    staged = tmp_root / f"{target.name}-{uuid.uuid4().hex}"
    staged.mkdir()
    con.execute(f"copy ({query}) to {_quote(staged / 'data_0.parquet')} (format parquet)")
    if target.exists():
        target.rename(tmp_root / f"{target.name}-old-{uuid.uuid4().hex}")
    staged.rename(target)
