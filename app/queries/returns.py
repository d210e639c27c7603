"""Returns: funnel, cohort return rates, cycle times, disposition backlog, recovery."""

from __future__ import annotations

import duckdb
import polars as pl

from app.filters import Filters, Where, apply_filters
from app.queries.common import age_bucket_sql, bucket_order, node_channels_col
from app.warehouse import columns, find_table, has_table, pick, query, require


def return_where(con: duckdb.DuckDBPyConnection, f: Filters, alias: str = "r") -> Where:
    cols = columns(con, "marts.fct_return_lines")
    node = pick(cols, "received_node_id", "node_id", "disposition_node_id")
    return apply_filters(
        f,
        date_col=f"{alias}.requested_at",
        channel_col=f"{alias}.channel",
        node_col=f"{alias}.{node}" if node else None,
        sku_col=f"{alias}.sku",
    )


def funnel(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Units reaching each step of the returns workflow (requested in the date range)."""
    require(con, "marts.fct_return_lines")
    w = return_where(con, f)
    steps = [
        ("requested", "r.requested_at"),
        ("authorized", "r.authorized_at"),
        ("received", "r.received_at"),
        ("inspected", "r.inspected_at"),
        ("disposed", "r.disposed_at"),
        ("refunded", "r.refunded_at"),
    ]
    selects = ", ".join(
        f"sum(r.quantity) filter (where {col} is not null) as {name}" for name, col in steps
    )
    wide = query(con, f"select {selects} from marts.fct_return_lines r{w.sql()}", w.params)
    return pl.DataFrame(
        {
            "step": [name for name, _ in steps],
            "units": [
                int(wide[name][0]) if wide.height and wide[name][0] is not None else 0
                for name, _ in steps
            ],
        }
    )


def _ship_col(con: duckdb.DuckDBPyConnection) -> str:
    cols = columns(con, "marts.fct_order_lines")
    return pick(cols, "first_shipped_at", "shipped_at", "last_shipped_at") or "ordered_at"


RATE_DIMS = {
    "sku": "o.sku",
    "category": "d.category",
    "channel": "o.channel",
    "cohort": "cast(date_trunc('month', o.cohort_at) as date)",
}


def return_rates(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "category") -> pl.DataFrame:
    """Return rate (units and value) by ship-month cohort of the original order line:
    units authorized for return / units shipped, for order lines shipped in the date range.
    `by` is sku, category, channel, cohort or reason (share of shipped units per reason)."""
    require(con, "marts.fct_order_lines", "marts.fct_return_lines", "marts.dim_sku")
    ship = _ship_col(con)
    w = apply_filters(f, date_col=f"o.{ship}", channel_col="o.channel", sku_col="o.sku")
    w.add("o.qty_shipped > 0")
    returns = (
        "select order_line_id, {key} as reason, sum(quantity) as qty from marts.fct_return_lines"
        " where authorized_at is not null group by all"
    )
    base = (
        f"with o as (select *, {ship} as cohort_at from marts.fct_order_lines),"
        " lines as (select o.order_line_id, o.sku, o.channel, o.cohort_at, o.qty_shipped,"
        " o.qty_return_authorized,"
        " cast(o.net_revenue as double) / nullif(o.qty_ordered - o.qty_cancelled, 0)"
        f" as unit_price from o{w.sql()})"
    )
    if by == "reason":
        sql = (
            base + ", r as (" + returns.format(key="reason") + "),"
            " shipped as (select sum(qty_shipped) as units, sum(qty_shipped * unit_price) as val"
            " from lines)"
            " select r.reason, sum(r.qty) as units_returned,"
            " sum(r.qty) / (select units from shipped) as return_rate_units,"
            " sum(r.qty * l.unit_price) / (select val from shipped) as return_rate_value"
            " from r join lines l using (order_line_id) group by r.reason"
            " order by units_returned desc"
        )
        return query(con, sql, w.params)
    # group by SKU (or channel / cohort) first, then attach categories to those few rows
    # instead of joining dim_sku to every order line
    name = by if by in RATE_DIMS else "category"
    key = {
        "sku": "l.sku",
        "category": "l.sku",
        "channel": "l.channel",
        "cohort": "cast(date_trunc('month', l.cohort_at) as date)",
    }[name]
    # the mart carries each line's authorized return units: no join with the returns
    per_key = (
        base + f", per_key as (select {key} as k, sum(l.qty_shipped) as units_shipped,"
        " sum(l.qty_return_authorized) as units_returned,"
        " sum(l.qty_shipped * l.unit_price) as value_shipped,"
        " sum(l.qty_return_authorized * l.unit_price) as value_returned"
        " from lines l group by 1)"
    )
    grouped = (
        " grouped as (select d.category as k, sum(units_shipped) as units_shipped,"
        " sum(units_returned) as units_returned, sum(value_shipped) as value_shipped,"
        " sum(value_returned) as value_returned"
        " from per_key left join marts.dim_sku d on d.sku = per_key.k group by 1)"
        if name == "category"
        else " grouped as (select * from per_key)"
    )
    sql = (
        per_key + "," + grouped + f" select k as {name}, units_shipped, units_returned,"
        " units_returned / units_shipped as return_rate_units,"
        " value_returned / nullif(value_shipped, 0) as return_rate_value from grouped"
        + (" order by units_shipped desc, 1 limit 500" if by == "sku" else " order by 1")
    )
    return query(con, sql, w.params)


def cohort_table(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """The governed cohort mart (marts.fct_return_rate_cohorts) under the filters."""
    from app.queries.common import filtered_table

    require(con, "marts.fct_return_rate_cohorts")
    return filtered_table(con, "marts.fct_return_rate_cohorts", f)


def cycle_times(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "channel") -> pl.DataFrame:
    """Refund cycle time (paid - received; paid - requested) and return-to-stock time,
    median and p90 in days, per channel (or category)."""
    require(con, "marts.fct_return_lines")
    cols = columns(con, "marts.fct_return_lines")
    w = return_where(con, f)
    key = "r.channel" if by == "channel" else ("r.category" if "category" in cols else "d.category")
    days = "epoch({b} - {a}) / 86400.0"
    # the mart's own day columns when it has them (governed), else computed here
    refund = (
        "r.days_received_to_refunded"
        if "days_received_to_refunded" in cols
        else days.format(a="r.received_at", b="r.refunded_at")
    )
    request = (
        "r.days_requested_to_refunded"
        if "days_requested_to_refunded" in cols
        else days.format(a="r.requested_at", b="r.refunded_at")
    )
    if "days_received_to_restocked" in cols:
        restock = "quantile_cont(r.days_received_to_restocked, 0.5)"
    else:
        restock = (
            f"quantile_cont({days.format(a='r.received_at', b='r.disposed_at')}, 0.5)"
            " filter (where r.disposition = 'restock')"
        )
    return query(
        con,
        f"select {key} as {by},"
        f" quantile_cont({refund}, 0.5) as refund_days_median,"
        f" quantile_cont({refund}, 0.9) as refund_days_p90,"
        f" quantile_cont({request}, 0.5) as request_to_refund_days_median,"
        f" {restock} as return_to_stock_days_median,"
        " count(*) filter (where r.refunded_at is not null) as refunded_lines"
        " from marts.fct_return_lines r left join marts.dim_sku d on d.sku = r.sku"
        f"{w.sql()} group by 1 order by 1",
        w.params,
    )


def disposition_backlog(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Units awaiting disposition by age bucket: fct_disposition_backlog, or derived from
    return lines received and not yet disposed."""
    if has_table(con, "marts.fct_disposition_backlog"):
        cols = columns(con, "marts.fct_disposition_backlog")
        bucket = pick(cols, "age_bucket")
        age = pick(cols, "age_days", "days_waiting", "age")
        qty = pick(cols, "quantity", "units", "backlog_units")
        state = pick(cols, "state", "stage")
        if qty and (bucket or age):
            date = pick(cols, "date", "snapshot_date")
            w = apply_filters(
                f,
                node_col="node_id" if "node_id" in cols else None,
                sku_col="sku" if "sku" in cols else None,
                category_col="category" if "category" in cols else None,
                node_channel_col=node_channels_col(con),
            )
            if date:
                dw = apply_filters(f, date_col=date)
                w.add(
                    f"{date} = (select max({date}) from marts.fct_disposition_backlog{dw.sql()})",
                    **dw.params,
                )
            frame = query(
                con,
                f"select {state or chr(39) + 'returned' + chr(39)} as state,"
                f" {bucket or age_bucket_sql(age or '0')} as age_bucket,"
                f" sum({qty}) as units"
                f" from marts.fct_disposition_backlog{w.sql()} group by all order by all",
                w.params,
            )
            return bucket_order(frame)
    require(con, "marts.fct_return_lines")
    w = return_where(con, f).add("r.received_at is not null and r.disposed_at is null")
    frame = query(
        con,
        "select 'returned' as state, "
        + age_bucket_sql(
            "datediff('day', r.received_at, (select max(received_at) from marts.fct_return_lines))"
        )
        + f" as age_bucket, sum(r.quantity) as units from marts.fct_return_lines r{w.sql()}"
        " group by all",
        w.params,
    )
    return bucket_order(frame)


def recovery(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Refunds and recovery value by disposition."""
    require(con, "marts.fct_return_lines")
    w = return_where(con, f)
    return query(
        con,
        "select coalesce(r.disposition, '(pending)') as disposition, sum(r.quantity) as units,"
        " sum(r.refund_amount) as refunded, sum(r.recovery_value) as recovery_value"
        f" from marts.fct_return_lines r{w.sql()} group by 1 order by units desc",
        w.params,
    )


def by_reason(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_return_lines")
    w = return_where(con, f)
    return query(
        con,
        "select r.reason, r.channel, sum(r.quantity) as units"
        f" from marts.fct_return_lines r{w.sql()} group by all order by units desc",
        w.params,
    )


def leakage_table(con: duckdb.DuckDBPyConnection) -> str | None:
    return find_table(con, "marts", "fct_margin_leakage", "%margin_leakage%", "%leakage%")
