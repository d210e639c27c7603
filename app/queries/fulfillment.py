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
    select channel, cast(ordered_at as date) as order_date,
        qty_ordered - qty_cancelled as qty_net, qty_shipped_on_time
    from {unit_source}
),
orders as (
    select channel, cast(ordered_at as date) as order_date,
        is_complete_on_time_one_shipment as complete_on_time
    from marts.fct_orders{order_where}
),
u as (
    select {key} as k, sum(qty_shipped_on_time) as units_shipped_on_time,
        sum(qty_net) as units_ordered_net
    from units group by 1
),
o as (
    select {key} as k, count(*) filter (where complete_on_time) as orders_complete_on_time,
        count(*) as orders
    from orders group by 1
)
select k as {name}, units_shipped_on_time, units_ordered_net,
    cast(units_shipped_on_time as double) / nullif(units_ordered_net, 0) as unit_fill_rate,
    coalesce(orders_complete_on_time, 0) as orders_complete_on_time,
    coalesce(orders, 0) as orders,
    cast(orders_complete_on_time as double) / nullif(orders, 0) as order_fill_rate
from u left join o using (k)
order by 1
"""

GROUPINGS = {
    "channel": ("channel", "channel"),
    "week": ("date_trunc('week', order_date)", "week"),
    "total": ("'all'", "total"),
}


def fill_rates(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "channel") -> pl.DataFrame:
    """Unit and order fill rate (BRIEF section 6) per channel, week or in total.

    Orders come from marts.fct_orders, so "complete, on time, in one shipment" is the
    governed flag, not recomputed here. Units come from fct_orders too unless a node
    or category filter narrows to lines; then the order rate counts the orders with
    a line in the slice (an order spans nodes and categories)."""
    require(con, "marts.fct_order_lines")
    require(con, "marts.fct_orders")
    key, name = GROUPINGS.get(by, GROUPINGS["total"])
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
    sql = FILL_SQL.format(unit_source=unit_source, order_where=orders.sql(), key=key, name=name)
    return query(con, sql, params)


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
