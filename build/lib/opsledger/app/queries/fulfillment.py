"""Fulfillment: fill rates, order exceptions by age, oversold units."""

from __future__ import annotations

import duckdb
import polars as pl
from opsledger.app.filters import Filters, Where, apply_filters
from opsledger.app.queries.common import filtered_table
from opsledger.app.warehouse import columns, pick, require


def order_line_where(con: duckdb.DuckDBPyConnection, f: Filters, alias: str = "") -> Where:
    """Global filters on fct_order_lines: order date, channel, category, and the shipping
    node when the mart has one."""
    cols = columns(con, "marts.fct_order_lines")
    node = pick(cols, "fulfilment_node_id", "fulfillment_node_id", "node_id", "ship_node")
    p = f"{alias}." if alias else ""
    return apply_filters(
        f,
        date_col=f"{p}ordered_at",
        channel_col=f"{p}channel",
        node_col=f"{p}{node}" if node else None,
        sku_col=f"{p}sku",
    )


def exception_lines(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_order_exceptions")
    return filtered_table(con, "marts.fct_order_exceptions", f)
