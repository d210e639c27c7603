"""Replenishment: SKUs at risk, and blocked stock that could cover their demand."""

from __future__ import annotations

import duckdb
import polars as pl
from opsledger.app.filters import Filters, apply_filters
from opsledger.app.queries.common import BLOCKED_STATES, node_channels_col
from opsledger.app.warehouse import NotBuilt, columns, find_table, pick, query


def replenishment_table(con: duckdb.DuckDBPyConnection) -> str | None:
    return find_table(
        con, "marts", "fct_replenishment_risk", "%replenishment_risk%", "%replenishment%"
    )


def at_risk(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """SKUs (x node when the mart has nodes) whose projected available is below the
    reorder point, with blocked units at the same scope that could cover the gap."""
    table = replenishment_table(con)
    if table is None:
        raise NotBuilt("marts.fct_replenishment_risk")
    cols = columns(con, table)
    projected = pick(cols, "projected_available", "projected_available_units")
    reorder = pick(cols, "reorder_point", "reorder_point_units")
    flag = pick(cols, "is_at_risk", "at_risk")
    node = pick(cols, "node_id")
    w = apply_filters(
        f,
        node_col=f"r.{node}" if node else None,
        sku_col="r.sku",
        node_channel_col=node_channels_col(con) if node else None,
    )
    if flag:
        w.add(f"r.{flag}")
    elif projected and reorder:
        w.add(f"r.{projected} < r.{reorder}")
    gap = f"greatest(r.{reorder} - r.{projected}, 0)" if projected and reorder else "null"
    node_join = "and b.node_id = r.node_id" if node else ""
    if "blocked_units" in cols:  # the mart already carries the blocked cover
        covered = pick(cols, "is_covered_by_blocked")
        cover = f"r.{covered}" if covered else f"r.blocked_units >= {gap}"
        category = "" if "category" in cols else ", d.category"
        return query(
            con,
            f"select r.*, {gap} as shortfall_units, {cover} as blocked_could_cover{category}"
            f" from {table} r left join marts.dim_sku d on d.sku = r.sku{w.sql()}"
            " order by shortfall_units desc nulls last limit 2000",
            w.params,
        )
    return query(
        con,
        f"with blocked as (select sku, node_id, sum(quantity) as blocked_units"
        " from marts.fct_stock_on_hand where list_contains($blocked, state) group by all),"
        " blocked_sku as (select sku, sum(blocked_units) as blocked_units from blocked group by sku)"
        f" select r.*, {gap} as shortfall_units,"
        f" coalesce({'b.blocked_units' if node else 'bs.blocked_units'}, 0) as blocked_units,"
        f" coalesce({'b.blocked_units' if node else 'bs.blocked_units'}, 0) >= {gap}"
        " as blocked_could_cover, d.category"
        f" from {table} r"
        + (f" left join blocked b on b.sku = r.sku {node_join}" if node else "")
        + " left join blocked_sku bs on bs.sku = r.sku"
        " left join marts.dim_sku d on d.sku = r.sku"
        f"{w.sql()} order by shortfall_units desc nulls last limit 2000",
        w.params | {"blocked": list(BLOCKED_STATES)},
    )


def risk_by_category(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty() or "category" not in frame.columns:
        return pl.DataFrame()
    return (
        frame.group_by("category")
        .agg(
            pl.col("sku").n_unique().alias("skus_at_risk"),
            pl.col("blocked_could_cover").sum().alias("coverable_by_blocked"),
        )
        .sort("skus_at_risk", descending=True)
    )
