"""Executive overview tables besides the KPIs (those come from the metrics service):
the open SLA breaches, late shipments, node staleness, the last gate."""

from __future__ import annotations

import duckdb
import polars as pl

from opsledger.app.filters import Filters, apply_filters
from opsledger.app.queries.fulfillment import order_line_where
from opsledger.app.queries.quality import LAST_GATE_RUN
from opsledger.app.warehouse import query, require
from opsledger.metrics import drill

OPEN_BREACHES_LIMIT = 1000


def open_sla_breaches(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """The breaches the open_sla_breaches KPI counts for the slice (its drill rows, so the
    list and the card always agree), with their node and age, the longest overdue first."""
    rows = drill.fact_rows(con, "open_sla_breaches", f.to_slice(), limit=OPEN_BREACHES_LIMIT)
    if rows.frame.is_empty():
        return pl.DataFrame(
            schema={"breach_type": pl.String, "node_id": pl.String, "age_days": pl.Float64}
        )
    return rows.frame.select(
        "breach_type",
        "node_id",
        "channel",
        "sku",
        pl.coalesce("return_line_id", "order_line_id").alias("line"),
        "started_at",
        "breached_at",
        (pl.col("age_minutes") / 1440).alias("age_days"),
        (pl.col("sla_minutes") / 1440).alias("sla_days"),
        (pl.col("minutes_over_sla") / 1440).alias("days_over_sla"),
    ).sort(["days_over_sla", "breach_type", "node_id"], descending=[True, False, False])


def late_shipments(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Order lines not shipped in full by the promised date, per week and channel."""
    require(con, "marts.fct_order_lines")
    w = order_line_where(f).add("promised_by is not null")
    return query(
        con,
        "select date_trunc('week', cast(promised_by as date)) as week, channel,"
        " count(*) filter (where qty_shipped_on_time < qty_ordered - qty_cancelled)"
        " as lines_breached,"
        " sum(greatest(qty_ordered - qty_cancelled - qty_shipped_on_time, 0)) as units_late,"
        f" count(*) as lines from marts.fct_order_lines{w.sql()}"
        " group by all order by week, channel",
        w.params,
    )


def node_freshness(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Last stock event per node against its SLA (marts.fct_node_freshness), stale first."""
    require(con, "marts.fct_node_freshness")
    w = apply_filters(f, node_col="node_id")
    return query(
        con,
        f"select * from marts.fct_node_freshness{w.sql()} order by is_stale desc, node_id",
        w.params,
    )


def last_gate(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Counts of the last gate run's expectations by suite and outcome."""
    require(con, "ops.gate_results")
    return query(
        con,
        "select suite, count(*) as expectations,"
        " count(*) filter (where success) as passed,"
        " count(*) filter (where not success and severity = 'error') as failed,"
        " count(*) filter (where not success and severity <> 'error') as warnings"
        f" from ops.gate_results where {LAST_GATE_RUN} group by suite order by suite",
    )
