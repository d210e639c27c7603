"""Read-only look-ups in the published warehouse (write-back never writes it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from opsledger.core.paths import HomePaths
from opsledger.core.readonly import connect_read_only
from opsledger.writeback.users import WritebackError


@contextmanager
def read(home: Path | str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    path = HomePaths.at(home).warehouse
    try:
        con = connect_read_only(path)
    except FileNotFoundError as exc:
        raise WritebackError("No published warehouse yet: run `opsledger refresh` first.") from exc
    try:
        yield con
    finally:
        con.close()


def build_id(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = con.execute(
            "select build_id from ops.publications order by published_at desc limit 1"
        ).fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None


def current_build_id(home: Path | str | None) -> str | None:
    with read(home) as con:
        return build_id(con)


def sku_info(con: duckdb.DuckDBPyConnection, sku: str) -> dict | None:
    row = con.execute(
        "select sku, product_class, unit_cost from marts.dim_sku where sku = ?", [sku]
    ).fetchone()
    if row is None:
        return None
    return {"sku": row[0], "product_class": row[1], "unit_cost": float(row[2] or 0)}


def node_exists(con: duckdb.DuckDBPyConnection, node_id: str) -> bool:
    return bool(con.execute("select 1 from marts.dim_node where node_id = ?", [node_id]).fetchone())


def on_hand(con: duckdb.DuckDBPyConnection, sku: str, node_id: str, state: str) -> int:
    row = con.execute(
        "select coalesce(sum(quantity), 0) from marts.fct_stock_on_hand "
        "where sku = ? and node_id = ? and state = ?",
        [sku, node_id, state],
    ).fetchone()
    return int(row[0]) if row else 0


RETURN_LINE_SQL = (
    "select r.return_id, r.return_line_id, r.sku, r.received_node_id as node_id, "
    "coalesce(r.qty_received, r.quantity) as quantity, coalesce(r.qty_disposed, 0) as qty_disposed, "
    "r.condition_grade, r.inspected_at, r.disposition, coalesce(r.product_class, s.product_class) "
    "as product_class, s.unit_cost from marts.fct_return_lines r left join marts.dim_sku s using (sku) "
)


def _rows(cur) -> list[dict]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def return_line(con: duckdb.DuckDBPyConnection, return_line_id: str) -> dict | None:
    rows = _rows(con.execute(RETURN_LINE_SQL + "where r.return_line_id = ?", [return_line_id]))
    return rows[0] if rows else None


def open_return_lines(con: duckdb.DuckDBPyConnection, limit: int = 500) -> list[dict]:
    """Inspected return lines with units not yet disposed, oldest inspection first."""
    return _rows(
        con.execute(
            RETURN_LINE_SQL + "where r.inspected_at is not null "
            "and coalesce(r.qty_disposed, 0) < coalesce(r.qty_received, r.quantity) "
            "order by r.inspected_at, r.return_line_id limit ?",
            [limit],
        )
    )


def present_event_ids(con: duckdb.DuckDBPyConnection, event_ids: Iterable[str]) -> dict[str, Any]:
    """event_id -> ingested_at for those already in the published raw tables."""
    ids = sorted(set(event_ids))
    if not ids:
        return {}
    found: dict[str, Any] = {}
    for table in ("raw.stock_events", "raw.returns_events"):
        try:
            rows = con.execute(
                f"select event_id, min(ingested_at) from {table} "
                "where event_id in (select unnest(?::varchar[])) group by event_id",
                [ids],
            ).fetchall()
        except duckdb.CatalogException:
            continue
        found.update(dict(rows))
    return found


def publications(con: duckdb.DuckDBPyConnection) -> list[tuple[str, Any]]:
    """(build_id, published_at) oldest first."""
    try:
        return con.execute(
            "select build_id, published_at from ops.publications order by published_at"
        ).fetchall()
    except duckdb.CatalogException:
        return []


def writeback_event_ids(
    con: duckdb.DuckDBPyConnection, table: str, where: dict[str, str]
) -> set[str]:
    """Ids of write-back events (with a submission_id) already in a published raw table."""
    cond = " and ".join(f"{col} = ?" for col in where)
    try:
        rows = con.execute(
            f"select event_id from raw.{table} where submission_id is not null and {cond}",
            list(where.values()),
        ).fetchall()
    except duckdb.Error:  # no such table or column yet
        return set()
    return {r[0] for r in rows}
