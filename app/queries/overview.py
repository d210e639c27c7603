"""Executive overview: governed KPIs from marts.kpi_daily, SLA breaches, staleness, gate."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from app.filters import Filters, Where, apply_filters
from app.kpis import Kpi
from app.warehouse import NotBuilt, columns, has_table, pick, query, require


@dataclass(frozen=True)
class Slice:
    """Which kpi_daily dimension answers a KPI under the current filters."""

    dimension: str
    values: tuple[str, ...]
    note: str | None


def kpi_slice(kpi: Kpi, f: Filters) -> Slice:
    active = f.active_dimensions()
    usable = [d for d in active if d in kpi.dimensions]
    if not active:
        return Slice("all", (), None)
    if not usable:
        return Slice("all", (), f"not available by {' or '.join(active)}: showing the total")
    chosen = usable[0]
    ignored = [d for d in active if d != chosen]
    note = f"filtered by {chosen}; {', '.join(ignored)} filter not applied" if ignored else None
    return Slice(chosen, f.values_for(chosen), note)


def _slice_where(s: Slice, f: Filters) -> Where:
    w = Where().add("dimension = $dimension", dimension=s.dimension)
    if s.values:
        w.add("list_contains($dim_values, dimension_value)", dim_values=list(s.values))
    if f.start:
        w.add("date >= $f_start", f_start=f.start)
    if f.end:
        w.add("date <= $f_end", f_end=f.end)
    return w


KPI_SQL = """
with rows as (
    select kpi, date, value, numerator, denominator from marts.kpi_daily{where}
),
last as (select kpi, max(date) as d from rows group by kpi)
select rows.kpi, sum(numerator), sum(denominator), sum(value),
    sum(value * denominator) / nullif(sum(denominator) filter (where value is not null), 0),
    avg(value), sum(value) filter (where date = last.d), count(*)
from rows join last using (kpi)
group by rows.kpi
"""


def _combine(kpi: Kpi, row: tuple) -> float | None:
    """The KPI's value from its summed daily rows, as its aggregation says."""
    num, den, total, weighted, mean, last, _n = (None if v is None else float(v) for v in row)
    agg = kpi.aggregation
    if agg == "ratio":
        return num / den if num is not None and den else mean
    if agg == "snapshot":
        return last
    if agg == "mean":
        return weighted if weighted is not None else mean
    return total


def kpi_values_by_slice(
    con: duckdb.DuckDBPyConnection, f: Filters, kpis: tuple[Kpi, ...]
) -> dict[str, tuple[float | None, Slice]]:
    """Several KPIs over the filtered range: one query per distinct slice, not per KPI."""
    require(con, "marts.kpi_daily")
    by_slice: dict[Slice, list[Kpi]] = {}
    for kpi in kpis:
        by_slice.setdefault(kpi_slice(kpi, f), []).append(kpi)
    out: dict[str, tuple[float | None, Slice]] = {}
    for s, group in by_slice.items():
        w = _slice_where(s, f).add("list_contains($kpis, kpi)", kpis=[k.kpi for k in group])
        rows = {
            r[0]: r[1:] for r in con.execute(KPI_SQL.format(where=w.sql()), w.params).fetchall()
        }
        for kpi in group:
            row = rows.get(kpi.kpi)
            out[kpi.kpi] = (_combine(kpi, row) if row and row[6] else None, s)
    return out


def kpi_value(con: duckdb.DuckDBPyConnection, f: Filters, kpi: Kpi) -> tuple[float | None, Slice]:
    """One KPI over the filtered range, combined as the KPI's aggregation says."""
    return kpi_values_by_slice(con, f, (kpi,))[kpi.kpi]


def kpi_values(con: duckdb.DuckDBPyConnection, f: Filters, kpis: tuple[Kpi, ...]) -> pl.DataFrame:
    rows = []
    daily = has_table(con, "marts.kpi_daily")
    values = kpi_values_by_slice(con, f, kpis) if daily else {}
    for kpi in kpis:
        if daily:
            value, s = values[kpi.kpi]
        else:
            try:
                value = kpi_from_marts(con, f, kpi.kpi)
            except (NotBuilt, duckdb.Error):
                value = None
            s = Slice("all", (), FALLBACK_NOTE)
        rows.append(
            {
                "kpi": kpi.kpi,
                "name": kpi.name,
                "value": value,
                "target": kpi.target,
                "unit": kpi.unit,
                "status": kpi.status(value),
                "dimension": s.dimension,
                "note": s.note,
                "definition": kpi.definition,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "kpi": pl.String,
            "name": pl.String,
            "value": pl.Float64,
            "target": pl.Float64,
            "unit": pl.String,
            "status": pl.String,
            "dimension": pl.String,
            "note": pl.String,
            "definition": pl.String,
        },
    )


def kpi_trend(
    con: duckdb.DuckDBPyConnection, f: Filters, kpi: Kpi, grain: str = "week"
) -> pl.DataFrame:
    """The KPI per week (or day/month) under the filters, combined like kpi_value."""
    require(con, "marts.kpi_daily")
    s = kpi_slice(kpi, f)
    w = _slice_where(s, f).add("kpi = $kpi", kpi=kpi.kpi)
    grain = grain if grain in ("day", "week", "month") else "week"
    agg = kpi.aggregation
    if agg == "ratio":
        expr = "coalesce(sum(numerator) / nullif(sum(denominator), 0), avg(value))"
    elif agg == "snapshot":
        expr = "sum(value) filter (where date = last_date)"
    elif agg == "mean":
        expr = "coalesce(sum(value * denominator) / nullif(sum(denominator), 0), avg(value))"
    else:
        expr = "sum(value)"
    return query(
        con,
        "with rows as (select date_trunc($grain, date) as period, date, value, numerator,"
        f" denominator from marts.kpi_daily{w.sql()}),"
        " lasts as (select period, max(date) as last_date from rows group by period)"
        f" select period, cast({expr} as double) as value from rows join lasts using (period)"
        " group by period order by period",
        w.params | {"grain": grain},
    )


def kpi_by_dimension(
    con: duckdb.DuckDBPyConnection, f: Filters, kpi: Kpi, dimension: str
) -> pl.DataFrame:
    """The KPI per value of one dimension over the date range."""
    require(con, "marts.kpi_daily")
    values = f.values_for(dimension)
    w = Where().add("kpi = $kpi", kpi=kpi.kpi).add("dimension = $dimension", dimension=dimension)
    if values:
        w.add("list_contains($dim_values, dimension_value)", dim_values=list(values))
    if f.start:
        w.add("date >= $f_start", f_start=f.start)
    if f.end:
        w.add("date <= $f_end", f_end=f.end)
    agg = kpi.aggregation
    if agg == "ratio":
        expr = "coalesce(sum(numerator) / nullif(sum(denominator), 0), avg(value))"
    elif agg == "snapshot":
        expr = "sum(value) filter (where date = (select max(date) from rows))"
    elif agg == "mean":
        expr = "coalesce(sum(value * denominator) / nullif(sum(denominator), 0), avg(value))"
    else:
        expr = "sum(value)"
    return query(
        con,
        f"with rows as (select * from marts.kpi_daily{w.sql()}) select dimension_value,"
        f" cast({expr} as double) as value from rows group by dimension_value order by 1",
        w.params,
    )


def sla_breaches(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Order lines not shipped in full by the promised date, per week and channel."""
    from app.queries.fulfillment import order_line_where

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


FALLBACK_NOTE = "computed from the marts (kpi_daily not built yet)"


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> float | None:
    row = con.execute(sql, params).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def kpi_from_marts(con: duckdb.DuckDBPyConnection, f: Filters, kpi: str) -> float | None:
    """The governed definition computed directly on the marts, for the KPIs whose inputs
    are there; None for the others."""
    from app.queries import fulfillment, inventory, returns

    if kpi in ("unit_fill_rate", "order_fill_rate"):
        rows = fulfillment.fill_rates(con, f, "total").to_dicts()
        return rows[0][kpi] if rows else None
    if kpi == "oversold_units":
        frame = fulfillment.oversold(con, f)
        return float(frame["oversold_units"].sum() or 0) if not frame.is_empty() else 0.0
    if kpi in ("return_rate_units", "return_rate_value"):
        require(con, "marts.fct_return_rate_cohorts")
        from app.filters import apply_filters

        num, den = (
            ("units_authorized", "units_shipped")
            if kpi == "return_rate_units"
            else ("value_authorized", "value_shipped")
        )
        w = apply_filters(f, date_col="ship_month", channel_col="channel", category_col="category")
        return _scalar(
            con,
            f"select sum({num}) / nullif(sum({den}), 0) from marts.fct_return_rate_cohorts{w.sql()}",
            w.params,
        )
    if kpi in (
        "refund_cycle_time_days",
        "refund_cycle_time_p90_days",
        "refund_request_to_paid_days",
        "return_to_stock_days",
    ):
        require(con, "marts.fct_return_lines")
        expr = {
            "refund_cycle_time_days": "quantile_cont(epoch(r.refunded_at - r.received_at), 0.5)",
            "refund_cycle_time_p90_days": "quantile_cont(epoch(r.refunded_at - r.received_at), 0.9)",
            "refund_request_to_paid_days": "quantile_cont(epoch(r.refunded_at - r.requested_at), 0.5)",
            "return_to_stock_days": "quantile_cont(epoch(r.disposed_at - r.received_at), 0.5)"
            " filter (where r.disposition = 'restock')",
        }[kpi]
        w = returns.return_where(con, f)
        value = _scalar(con, f"select {expr} from marts.fct_return_lines r{w.sql()}", w.params)
        return value / 86400.0 if value is not None else None
    if kpi in ("blocked_stock_value", "inventory_value"):
        frame = inventory.stock_by_state(con, f)
        if kpi == "blocked_stock_value":
            frame = frame.filter(
                frame["state"].is_in(["quality_hold", "damaged", "returned", "resale_ready"])
            )
        return float(frame["value"].sum() or 0)
    if kpi == "disposition_backlog_units":
        frame = returns.disposition_backlog(con, f)
        return float(frame["units"].sum() or 0) if not frame.is_empty() else 0.0
    if kpi == "inventory_accuracy":
        frame = inventory.cycle_counts(con, f)
        if "accurate" not in frame.columns or frame.is_empty():
            return None
        return float(frame["accurate"].sum()) / float(frame["counts"].sum())
    if kpi == "open_order_exceptions":
        frame = fulfillment.exceptions_by_age(con, f)
        return float(frame["lines"].sum() or 0) if not frame.is_empty() else 0.0
    if kpi == "supplier_otif":
        require(con, "marts.fct_supplier_performance")
        return _scalar(
            con,
            "select sum(po_lines_otif) / nullif(sum(po_lines_due), 0)"
            " from marts.fct_supplier_performance",
            {},
        )
    return None
