"""Versioned, read-only access to the published warehouse (no Streamlit here).

The refresh publishes a new warehouse by atomically renaming a finished file over
`<home>/warehouse.duckdb`, so (inode, mtime, size) identifies a publication. Every
query batch opens a short-lived read-only connection and closes it, so the next
batch sees a newly published file without a restart; callers cache results keyed
on `version()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from opsledger.paths import HomePaths
from opsledger.readonly import connect_read_only


class WarehouseMissing(Exception):
    """No published warehouse yet."""


class NotBuilt(Exception):
    """A table the page needs is not in the published warehouse (yet)."""

    def __init__(self, table: str) -> None:
        super().__init__(f"{table} is not built yet")
        self.table = table


@dataclass(frozen=True)
class Version:
    inode: int
    mtime_ns: int
    size: int

    def key(self) -> str:
        return f"{self.inode}-{self.mtime_ns}-{self.size}"


def warehouse_path(home: Path | str | None = None) -> Path:
    return HomePaths.at(home).warehouse


def version(path: Path) -> Version | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return Version(st.st_ino, st.st_mtime_ns, st.st_size)


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection with file-system access disabled."""
    try:
        con = connect_read_only(path)
    except FileNotFoundError as exc:
        raise WarehouseMissing(str(path)) from exc
    try:
        yield con
    finally:
        con.close()


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    schema, table = name.split(".", 1)
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
            "and database_name = current_database()",
            [schema, table],
        ).fetchone()[0]  # type: ignore[index]
        or con.execute(
            "select count(*) from duckdb_views() where schema_name = ? and view_name = ? "
            "and database_name = current_database()",
            [schema, table],
        ).fetchone()[0]  # type: ignore[index]
    )


def require(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        if not has_table(con, name):
            raise NotBuilt(name)


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    return con.execute(sql, params or {}).pl()


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the file holds no marts at all (e.g. a fresh or foreign database)."""
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'marts' "
        "and database_name = current_database()"
    ).fetchone()
    return not row or row[0] == 0


@dataclass(frozen=True)
class Publication:
    build_id: str | None
    published_at: str | None
    events_total: int | None
    gate_success: bool | None
    gate_warnings: int | None


def publication(con: duckdb.DuckDBPyConnection) -> Publication | None:
    if not has_table(con, "ops.publications"):
        return None
    row = con.execute(
        "select build_id, cast(published_at as varchar), events_total, gate_success, gate_warnings "
        "from ops.publications order by published_at desc limit 1"
    ).fetchone()
    return Publication(*row) if row else None
