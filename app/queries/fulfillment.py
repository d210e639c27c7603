"""Fulfillment: fill rates, order exceptions by age, oversold units."""

from __future__ import annotations

import duckdb
import polars as pl

from app.filters import Filters, Where, apply_filters
from app.queries.common import age_bucket_sql, bucket_order, filtered_table
from app.warehouse import columns, find_table, pick, query, require


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


FILL_SQL = """
with units as (
    select channel, date_trunc('week', cast(ordered_at as date)) as week,
        qty_ordered - qty_cancelled as qty_net, qty_shipped_on_time
    from {unit_source}
),
orders as (
    select channel, date_trunc('week', cast(ordered_at as date)) as week,
        is_complete_on_time_one_shipment as complete_on_time
    from marts.fct_orders{order_where}
),
u as (
    select grouping(channel, week) as g, channel, week,
        sum(qty_shipped_on_time) as units_shipped_on_time, sum(qty_net) as units_ordered_net
    from units group by grouping sets ((), (channel), (week))
),
o as (
    select grouping(channel, week) as g, channel, week,
        count(*) filter (where complete_on_time) as orders_complete_on_time, count(*) as orders
    from orders group by grouping sets ((), (channel), (week))
)
select u.g, u.channel, u.week, u.units_shipped_on_time, u.units_ordered_net,
    cast(u.units_shipped_on_time as double) / nullif(u.units_ordered_net, 0) as unit_fill_rate,
    coalesce(o.orders_complete_on_time, 0) as orders_complete_on_time,
    coalesce(o.orders, 0) as orders,
    cast(o.orders_complete_on_time as double) / nullif(o.orders, 0) as order_fill_rate
from u left join o
    on u.g = o.g and u.channel is not distinct from o.channel
    and u.week is not distinct from o.week
"""

# grouping(channel, week): the bits of the columns left out of the grouping set
GRAINS = {"total": 3, "channel": 1, "week": 2}
MEASURES = [
    "units_shipped_on_time",
    "units_ordered_net",
    "unit_fill_rate",
    "orders_complete_on_time",
    "orders",
    "order_fill_rate",
]


def fill_rate_views(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, pl.DataFrame]:
    """Unit and order fill rate (BRIEF section 6) in total, per channel and per order
    week, from one query (grouping sets): {"total": ..., "channel": ..., "week": ...}.

    Orders come from marts.fct_orders, so "complete, on time, in one shipment" is the
    governed flag, not recomputed here. Units come from fct_orders too unless a node
    or category filter narrows to lines; then the order rate counts the orders with
    a line in the slice (an order spans nodes and categories)."""
    require(con, "marts.fct_order_lines")
    require(con, "marts.fct_orders")
    orders = apply_filters(f, date_col="ordered_at", channel_col="channel").add(
        "not is_fully_cancelled"
    )
    if f.nodes or f.categories:
        lines = order_line_where(con, f)
        unit_source = f"marts.fct_order_lines{lines.sql()}"
        orders.add(f"order_id in (select order_id from marts.fct_order_lines{lines.sql()})")
        params = {**orders.params, **lines.params}
    else:
        unit_source = (
            "marts.fct_orders"
            + apply_filters(f, date_col="ordered_at", channel_col="channel").sql()
        )
        params = orders.params
    sql = FILL_SQL.format(unit_source=unit_source, order_where=orders.sql())
    rows = query(con, sql, params)
    # the empty grouping set yields a row of nulls over no lines: no lines, no total
    total = rows.filter(
        (pl.col("g") == GRAINS["total"]) & pl.col("units_ordered_net").is_not_null()
    )
    return {
        "total": total.select(pl.lit("all").alias("total"), *MEASURES),
        "channel": rows.filter(pl.col("g") == GRAINS["channel"])
        .select("channel", *MEASURES)
        .sort("channel"),
        "week": rows.filter(pl.col("g") == GRAINS["week"]).select("week", *MEASURES).sort("week"),
    }


def fill_rates(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "channel") -> pl.DataFrame:
    """One view of fill_rate_views: `by` is total, channel or week."""
    return fill_rate_views(con, f)[by if by in GRAINS else "total"]


def oversold(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_order_lines")
    w = order_line_where(con, f)
    return query(
        con,
        "select channel, sum(qty_oversold) as oversold_units,"
        " count(*) filter (where qty_oversold > 0) as oversold_lines,"
        " sum(qty_ordered) as units_ordered"
        f" from marts.fct_order_lines{w.sql()} group by channel order by channel",
        w.params,
    )


def oversold_by_week(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_order_lines")
    w = order_line_where(con, f)
    return query(
        con,
        "select date_trunc('week', cast(ordered_at as date)) as week, channel,"
        f" sum(qty_oversold) as oversold_units from marts.fct_order_lines{w.sql()}"
        " group by all order by all",
        w.params,
    )


def exceptions_by_age(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Open order exceptions by type and age bucket (marts.fct_order_exceptions)."""
    table = find_table(con, "marts", "fct_order_exceptions")
    if table is None:
        require(con, "marts.fct_order_exceptions")
    assert table is not None
    cols = columns(con, table)
    kind = pick(cols, "exception_type", "exception", "type", "kind")
    bucket = pick(cols, "age_bucket")
    age_days = pick(cols, "age_days", "days_open", "age")
    opened = pick(cols, "opened_at", "detected_at", "created_at", "ordered_at", "exception_at")
    is_open = pick(cols, "is_open")
    closed = pick(cols, "resolved_at", "closed_at")
    qty = pick(cols, "qty_affected", "quantity", "qty", "units", "qty_open")
    if bucket:
        bucket_expr = bucket
    elif age_days:
        bucket_expr = age_bucket_sql(age_days)
    elif opened:
        bucket_expr = age_bucket_sql(
            f"datediff('day', {opened}, (select max({opened}) from {table}))"
        )
    else:
        bucket_expr = "'unknown'"
    w = apply_filters(
        f,
        date_col=opened,
        channel_col=pick(cols, "channel"),
        node_col=pick(cols, "fulfilment_node_id", "fulfillment_node_id", "node_id"),
        sku_col=pick(cols, "sku"),
    )
    if is_open:
        w.add(f"{is_open}")
    elif closed:
        w.add(f"{closed} is null")
    frame = query(
        con,
        f"select {kind or chr(39) + 'exception' + chr(39)} as exception_type,"
        f" {bucket_expr} as age_bucket, count(*) as lines,"
        f" {f'sum({qty})' if qty else 'count(*)'} as units"
        f" from {table}{w.sql()} group by all order by all",
        w.params,
    )
    return bucket_order(frame)


def exception_lines(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_order_exceptions")
    return filtered_table(con, "marts.fct_order_exceptions", f)
