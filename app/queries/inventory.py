"""Inventory: stock by state/node/channel, available-to-sell, blocked stock, aging, SKU drill-down."""

from __future__ import annotations

import duckdb
import polars as pl

from opsledger.app.filters import Filters, Where, apply_filters
from opsledger.app.warehouse import query, require


def _stock_where(f: Filters, alias: str = "s") -> Where:
    """Snapshot tables: node, category, and channel as 'nodes that serve the channel'."""
    return apply_filters(
        f, node_col=f"{alias}.node_id", sku_col=f"{alias}.sku", channel_via_node=True
    )


def stock_by_state(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_stock_on_hand")
    w = _stock_where(f)
    return query(
        con,
        "select s.state, sum(s.quantity) as quantity, sum(s.value) as value,"
        " count(distinct s.sku) as skus"
        f" from marts.fct_stock_on_hand s{w.sql()} group by s.state order by value desc nulls last",
        w.params,
    )


def stock_by_node(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_stock_on_hand")
    w = _stock_where(f)
    return query(
        con,
        "select s.node_id, s.state, sum(s.quantity) as quantity, sum(s.value) as value"
        f" from marts.fct_stock_on_hand s{w.sql()} group by all order by s.node_id, s.state",
        w.params,
    )


def stock_by_category(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_stock_on_hand", "marts.dim_sku")
    w = _stock_where(f)
    return query(
        con,
        "select d.category, s.state, sum(s.quantity) as quantity, sum(s.value) as value"
        " from marts.fct_stock_on_hand s join marts.dim_sku d on d.sku = s.sku"
        f"{w.sql()} group by all order by d.category, s.state",
        w.params,
    )


def stock_by_channel(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """On-hand available units of the nodes serving each channel (dim_node)."""
    require(con, "marts.fct_stock_on_hand", "marts.dim_node")
    w = _stock_where(f).add("s.state = 'available'")
    if f.channels:
        w.add("list_contains($f_channels, channel)", f_channels=list(f.channels))
    return query(
        con,
        "with served as (select node_id,"
        " unnest(string_split(channels_served, '|')) as channel from marts.dim_node)"
        " select channel, sum(s.quantity) as available_units, sum(s.value) as available_value,"
        " count(distinct s.node_id) as nodes"
        f" from marts.fct_stock_on_hand s join served n on n.node_id = s.node_id{w.sql()}"
        " group by channel order by channel",
        w.params,
    )


def available_to_sell(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Available-to-sell per channel (marts.fct_available_to_sell: SKU x channel, now)."""
    require(con, "marts.fct_available_to_sell")
    w = apply_filters(f, channel_col="channel", sku_col="sku")
    return query(
        con,
        "select channel, sum(available_to_sell) as available_to_sell,"
        " count(*) filter (where available_to_sell <= 0) as skus_not_sellable,"
        " sum(safety_buffer_units) as safety_buffer_units"
        f" from marts.fct_available_to_sell{w.sql()} group by 1 order by 1",
        w.params,
    )


def aging(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_inventory_aging")
    w = _stock_where(f, alias="a")
    return query(
        con,
        "select a.age_bucket, sum(a.quantity) as quantity, sum(a.value) as value,"
        " count(distinct a.sku) as skus"
        f" from marts.fct_inventory_aging a{w.sql()} group by a.age_bucket"
        " order by min(a.age_bucket_order)",
        w.params,
    )


def top_skus(con: duckdb.DuckDBPyConnection, f: Filters, limit: int = 200) -> pl.DataFrame:
    """SKUs by on-hand value: the drill-down picker."""
    require(con, "marts.fct_stock_on_hand")
    w = _stock_where(f)
    return query(
        con,
        "select s.sku, sum(s.quantity) as quantity, sum(s.value) as value"
        f" from marts.fct_stock_on_hand s{w.sql()} group by s.sku"
        " order by value desc nulls last, s.sku limit $limit",
        w.params | {"limit": limit},
    )


def sku_movements(con: duckdb.DuckDBPyConnection, f: Filters, sku: str) -> pl.DataFrame:
    """One SKU's stock movements (the ledger), newest first, within the date range/nodes."""
    require(con, "marts.fct_stock_movements")
    w = Where().add("m.sku = $sku", sku=sku)
    apply_filters(f, date_col="m.event_time", where=w)
    if f.nodes:
        w.add(
            "list_contains($f_nodes, m.from_node) or list_contains($f_nodes, m.to_node)",
            f_nodes=list(f.nodes),
        )
    return query(
        con,
        "select m.event_time, m.event_type, m.from_node, m.from_state, m.to_node, m.to_state,"
        " m.quantity, m.unit_cost, m.value, m.event_id, m.movement_id"
        f" from marts.fct_stock_movements m{w.sql()}"
        " order by m.event_time desc, m.movement_id desc limit 5000",
        w.params,
    )


def sku_daily(con: duckdb.DuckDBPyConnection, f: Filters, sku: str) -> pl.DataFrame:
    """One SKU's end-of-day quantity by state (fct_stock_daily)."""
    require(con, "marts.fct_stock_daily")
    w = Where().add("d.sku = $sku", sku=sku)
    apply_filters(f, date_col="d.date", node_col="d.node_id", where=w)
    return query(
        con,
        "select d.date, d.state, sum(d.quantity) as quantity"
        f" from marts.fct_stock_daily d{w.sql()} group by all order by all",
        w.params,
    )


def sku_profile(con: duckdb.DuckDBPyConnection, sku: str) -> pl.DataFrame:
    require(con, "marts.dim_sku")
    return query(con, "select * from marts.dim_sku where sku = $sku", {"sku": sku})
