"""Returns: funnel, cohort return rates, cycle times, disposition backlog, recovery."""

from __future__ import annotations

import duckdb
import polars as pl

from opsledger.app.filters import Filters, Where, apply_filters
from opsledger.app.warehouse import query, require


def return_where(f: Filters, alias: str = "r") -> Where:
    """Global filters on fct_return_lines: request date, channel, receiving node, SKU."""
    return apply_filters(
        f,
        date_col=f"{alias}.requested_at",
        channel_col=f"{alias}.channel",
        node_col=f"{alias}.received_node_id",
        sku_col=f"{alias}.sku",
    )


def funnel(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Units reaching each step of the returns workflow (requested in the date range)."""
    require(con, "marts.fct_return_lines")
    w = return_where(f)
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


def recovery(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Refunds and recovery value by disposition."""
    require(con, "marts.fct_return_lines")
    w = return_where(f)
    return query(
        con,
        "select coalesce(r.disposition, '(pending)') as disposition, sum(r.quantity) as units,"
        " sum(r.refund_amount) as refunded, sum(r.recovery_value) as recovery_value"
        f" from marts.fct_return_lines r{w.sql()} group by 1 order by units desc",
        w.params,
    )


def by_reason(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_return_lines")
    w = return_where(f)
    return query(
        con,
        "select r.reason, r.channel, sum(r.quantity) as units"
        f" from marts.fct_return_lines r{w.sql()} group by all order by units desc",
        w.params,
    )
