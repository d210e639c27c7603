"""Ledger exceptions (marts.fct_ledger_exceptions): anomalies the ledger keeps."""

from __future__ import annotations

import duckdb
import polars as pl

from opsledger.app.warehouse import query, require


def exception_totals(con: duckdb.DuckDBPyConnection) -> dict:
    """Open anomalies: how many and their value."""
    require(con, "marts.fct_ledger_exceptions")
    n, value = con.execute(
        "select count(*), coalesce(sum(value), 0) from marts.fct_ledger_exceptions where is_open"
    ).fetchone()
    return {"open": int(n), "value": float(value)}


def exception_rows(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pl.DataFrame:
    require(con, "marts.fct_ledger_exceptions")
    return query(
        con,
        "select exception_type, sku, node_id, state, return_line_id, order_line_id, quantity,"
        " value, opened_at, resolved_at, age_days, event_ids"
        " from marts.fct_ledger_exceptions order by is_open desc, value desc nulls last,"
        " exception_id limit $limit",
        {"limit": int(limit)},
    )
