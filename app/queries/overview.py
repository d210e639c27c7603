"""Executive overview tables besides the KPIs (those come from the metrics service):
SLA breaches, node staleness, the last gate."""

from __future__ import annotations

import duckdb
import polars as pl
from opsledger.app.filters import Filters, Where, apply_filters
from opsledger.app.warehouse import columns, has_table, pick, query, require


def sla_breaches(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Order lines not shipped in full by the promised date, per week and channel."""
    from opsledger.app.queries.fulfillment import order_line_where

    require(con, "marts.fct_order_lines")
    w = order_line_where(con, f).add("promised_by is not null")
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
    """Last stock event per node against its node type's SLA (domain_node_types).

    'Now' is the warehouse's last event (the data may be simulated history)."""
    if has_table(con, "marts.fct_node_freshness"):
        cols = columns(con, "marts.fct_node_freshness")
        w = apply_filters(f, node_col="node_id")
        order = "is_stale desc, " if "is_stale" in cols else ""
        return query(
            con,
            f"select * from marts.fct_node_freshness{w.sql()} order by {order}node_id",
            w.params,
        )
    require(con, "marts.fct_stock_movements")
    node_w = Where()
    if f.nodes:
        node_w.add("list_contains($f_nodes, node_id)", f_nodes=list(f.nodes))
    sla = (
        "left join domain.domain_node_types t on t.node_type = n.node_type"
        if has_table(con, "domain.domain_node_types")
        else "left join (select null as node_type, null as stale_after_minutes) t on false"
    )
    nodes = "marts.dim_node" if has_table(con, "marts.dim_node") else None
    node_src = (
        f"select node_id, node_type from {nodes}"
        if nodes
        else "select distinct to_node as node_id, null as node_type from marts.fct_stock_movements"
    )
    sla_col = "t.stale_after_minutes"
    if has_table(con, "domain.domain_node_types") and not pick(
        columns(con, "domain.domain_node_types"), "stale_after_minutes"
    ):
        sla_col = "null"
    return query(
        con,
        "with moves as (select node, max(event_time) as last_event_at from ("
        " select from_node as node, event_time from marts.fct_stock_movements"
        " union all select to_node, event_time from marts.fct_stock_movements)"
        " where node is not null group by node),"
        " now_ as (select max(event_time) as as_of from marts.fct_stock_movements),"
        f" nodes as ({node_src})"
        " select n.node_id, n.node_type, m.last_event_at,"
        " datediff('minute', m.last_event_at, (select as_of from now_)) as minutes_since_last_event,"
        f" cast({sla_col} as bigint) as stale_after_minutes,"
        f" coalesce(datediff('minute', m.last_event_at, (select as_of from now_)) > {sla_col}, true)"
        " as is_stale"
        f" from nodes n left join moves m on m.node = n.node_id {sla}{node_w.sql()}"
        " order by is_stale desc, minutes_since_last_event desc",
        node_w.params,
    )


def last_gate(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Counts of the last gate run's expectations by severity and outcome."""
    require(con, "ops.gate_results")
    run_col = pick(columns(con, "ops.gate_results"), "run_id", "build_id")
    latest = (
        f" where {run_col} = (select {run_col} from ops.gate_results"
        f" order by {run_col} desc limit 1)"
        if run_col
        else ""
    )
    return query(
        con,
        "select suite, count(*) as expectations,"
        " count(*) filter (where success) as passed,"
        " count(*) filter (where not success and severity = 'error') as failed,"
        " count(*) filter (where not success and severity <> 'error') as warnings"
        f" from ops.gate_results{latest} group by suite order by suite",
    )
