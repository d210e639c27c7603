"""Shared helpers for the page queries."""

from __future__ import annotations

import duckdb


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Values the sidebar offers: channels, nodes, categories, product classes,
    suppliers (the dimension marts) and the date bounds (dim_date)."""

    def values(sql: str) -> list:
        return [r[0] for r in con.execute(sql).fetchall() if r[0] is not None]

    lo, hi = con.execute("select min(date_day), max(date_day) from marts.dim_date").fetchone()  # type: ignore[misc]
    return {
        "channels": values("select channel_id from marts.dim_channel order by 1"),
        "nodes": values("select node_id from marts.dim_node order by 1"),
        "categories": values("select distinct category from marts.dim_sku order by 1"),
        "product_classes": values("select distinct product_class from marts.dim_sku order by 1"),
        "suppliers": values("select distinct supplier_id from marts.dim_sku order by 1"),
        "dates": [lo, hi] if lo is not None else [],
    }


def currency(con: duckdb.DuckDBPyConnection) -> str | None:
    """The merchant's currency (one rule for the app and the command line)."""
    from opsledger.metrics.service import merchant_currency

    return merchant_currency(con)
