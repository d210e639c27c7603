"""Oversold units attributed to the stale node (issue 20): per node whose stock the
system believed available, the oversold lines and units it explains and how stale
it was at order time (marts.fct_order_lines.stale_node_*)."""

from __future__ import annotations

import duckdb
import polars as pl

from opsledger.app.filters import Filters
from opsledger.app.queries.fulfillment import order_line_where
from opsledger.app.warehouse import query, require


def oversold_by_stale_node(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """One row per stale node over the oversold lines of the slice: lines, oversold
    units, the units its stale stock explains, median and max staleness (hours)."""
    require(con, "marts.fct_order_lines")
    w = order_line_where(f).add("qty_oversold > 0").add("stale_node_id is not null")
    return query(
        con,
        "select stale_node_id as node_id, count(*) as oversold_lines,"
        " cast(sum(qty_oversold) as bigint) as oversold_units,"
        " cast(sum(qty_oversold_stale_node) as bigint) as units_oversold_by_stale_stock,"
        " round(median(stale_node_minutes_at_order) / 60, 1) as median_hours_stale,"
        " round(max(stale_node_minutes_at_order) / 60, 1) as max_hours_stale"
        f" from marts.fct_order_lines{w.sql()}"
        " group by stale_node_id order by units_oversold_by_stale_stock desc, node_id",
        w.params,
    )
