"""Replenishment: SKUs at risk, and whether their blocked stock could cover the gap."""

from __future__ import annotations

import duckdb
import polars as pl

from opsledger.app.filters import Filters, apply_filters
from opsledger.app.warehouse import query, require


def at_risk(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """SKUs whose projected available is below the reorder point
    (marts.fct_replenishment_risk), with their shortfall and blocked cover."""
    require(con, "marts.fct_replenishment_risk")
    w = apply_filters(f, category_col="r.category", sku_col="r.sku").add("r.is_at_risk")
    return query(
        con,
        "select r.*, greatest(r.reorder_point - r.projected_available, 0) as shortfall_units,"
        " r.is_covered_by_blocked as blocked_could_cover"
        f" from marts.fct_replenishment_risk r{w.sql()}"
        " order by shortfall_units desc nulls last, r.sku limit 2000",
        w.params,
    )
