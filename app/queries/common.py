"""Shared helpers for the page queries."""

from __future__ import annotations

import duckdb
import polars as pl
from opsledger.app.filters import Filters, apply_filters
from opsledger.app.warehouse import columns, has_table, pick, query

BLOCKED_STATES = ("quality_hold", "damaged", "returned", "resale_ready")
AGE_BUCKETS = ("0-30", "31-60", "61-90", "91-180", "181+")
DATE_COLS = (
    "date",
    "ship_month",
    "promised_date",
    "posted_at",
    "event_time",
    "opened_at",
    "ordered_at",
    "requested_at",
)
NODE_COLS = (
    "node_id",
    "fulfilment_node_id",
    "fulfillment_node_id",
    "received_node_id",
    "node",
)


def node_channels_col(con: duckdb.DuckDBPyConnection) -> str | None:
    if not has_table(con, "marts.dim_node"):
        return None
    return pick(columns(con, "marts.dim_node"), "channels_served", "channels", "served_channels")


def age_bucket_sql(days_expr: str) -> str:
    return (
        f"case when {days_expr} <= 30 then '0-30' when {days_expr} <= 60 then '31-60' "
        f"when {days_expr} <= 90 then '61-90' when {days_expr} <= 180 then '91-180' else '181+' end"
    )


def bucket_key(bucket: object) -> tuple[float, str]:
    """Natural order of an age bucket: by its first number (0-2d, 3-7d, 15-30d, 181+)."""
    text = str(bucket)
    digits = ""
    for ch in text:
        if ch.isdigit():
            digits += ch
        elif digits:
            break
    return (float(digits) if digits else float("inf"), text)


def bucket_order(frame: pl.DataFrame, col: str = "age_bucket") -> pl.DataFrame:
    """Rows in the natural order of their age bucket (stable within a bucket)."""
    if col not in frame.columns or frame.is_empty():
        return frame
    keys = sorted(set(frame[col].cast(pl.String).to_list()), key=bucket_key)
    order = {b: i for i, b in enumerate(keys)}
    return (
        frame.with_columns(
            pl.col(col).cast(pl.String).replace_strict(order, default=len(order)).alias("_order")
        )
        .sort("_order", maintain_order=True)
        .drop("_order")
    )


def filtered_table(
    con: duckdb.DuckDBPyConnection, table: str, f: Filters, *, limit: int = 5000
) -> pl.DataFrame:
    """A whole (small) mart with whichever global filters its columns allow."""
    cols = columns(con, table)
    date_col = pick(cols, *DATE_COLS)
    channel_col = pick(cols, "channel", "channel_id")
    node_col = pick(cols, *NODE_COLS)
    sku_col = pick(cols, "sku")
    w = apply_filters(
        f,
        date_col=date_col,
        channel_col=channel_col,
        node_col=node_col,
        sku_col=sku_col,
        category_col=pick(cols, "category"),
        node_channel_col=node_channels_col(con) if node_col else None,
    )
    return query(con, f"select * from {table}{w.sql()} limit {int(limit)}", w.params)


def as_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """The warehouse's 'now': the last day of kpi_daily, else the last movement."""
    for sql in (
        "select cast(max(date) as varchar) from marts.kpi_daily",
        "select cast(max(cast(event_time as date)) as varchar) from marts.fct_stock_movements",
    ):
        try:
            row = con.execute(sql).fetchone()
        except duckdb.Error:
            continue
        if row and row[0]:
            return str(row[0])
    return None


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Values the sidebar offers: channels, nodes, categories and the date bounds."""

    def values(*sqls: str) -> list:
        for sql in sqls:
            try:
                return [r[0] for r in con.execute(sql).fetchall() if r[0] is not None]
            except duckdb.Error:
                continue
        return []

    def bounds(*sqls: str) -> list:
        for sql in sqls:
            try:
                row = con.execute(sql).fetchone()
            except duckdb.Error:
                continue
            if row and row[0] is not None:
                return [row[0], row[1]]
        return []

    return {
        "channels": values(
            "select channel_id from marts.dim_channel order by 1",
            "select distinct channel from marts.fct_order_lines order by 1",
        ),
        "nodes": values("select node_id from marts.dim_node order by 1"),
        "categories": values("select distinct category from marts.dim_sku order by 1"),
        "product_classes": values("select distinct product_class from marts.dim_sku order by 1"),
        "suppliers": values("select distinct supplier_id from marts.dim_sku order by 1"),
        "dates": bounds(
            "select min(date_day), max(date_day) from marts.dim_date",
            "select min(date), max(date) from marts.kpi_daily",
            "select min(cast(ordered_at as date)), max(cast(ordered_at as date))"
            " from marts.fct_order_lines",
        ),
    }


def currency(con: duckdb.DuckDBPyConnection) -> str | None:
    """The merchant's currency (one rule for the app and the command line)."""
    from opsledger.metrics.service import merchant_currency

    return merchant_currency(con)
