"""Bounded pandas frames the suites validate, computed in DuckDB from a build database.

GX validates pandas dataframes here, never DuckDB through SQLAlchemy (see README):
each frame is either the newest ingested batch of a source (capped) or a small
invariant table (one row per SKU, state, day, node...; per-key tables that can grow
with the data are ordered worst-first and capped, so violations are always kept).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd
import yaml
from opsledger.expectations.definitions import (
    GL_INVENTORY_ACCOUNT,
    INVARIANT_ROW_CAP,
    LANDING_ROW_CAP,
    Suite,
)
from opsledger.models import load_domain
from opsledger.models.export import KPIS_FILE

Builder = Callable[[duckdb.DuckDBPyConnection, Suite], pd.DataFrame]


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where database_name = current_database() "
        "union all select schema_name || '.' || view_name from duckdb_views() "
        "where database_name = current_database() and not internal"
    ).fetchall()
    return {r[0] for r in rows}


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def _sql_list(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# -- landing ---------------------------------------------------------------------


def landing_events(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    table = f"raw.{_q(suite.params['source'] + '_events')}"
    present = set(columns_of(con, f"raw.{suite.params['source']}_events"))
    select = ", ".join(
        _q(c) if c in present else f"cast(null as varchar) as {_q(c)}"
        for c in suite.params["columns"]
    )
    return con.execute(
        f"""
        with newest as (
            select batch_id from {table}
            group by batch_id
            order by max(ingested_at) desc, batch_id desc
            limit 1
        )
        select {select} from {table}
        where batch_id = (select batch_id from newest)
        limit {LANDING_ROW_CAP}
        """
    ).df()


def landing_batches(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    """Newest batch per source: file counts, and the rows of it still in quarantine
    (rows held for late master data and released later are not counted)."""
    if "raw.quarantine" in existing_tables(con):
        released = (
            "released_at is null" if "released_at" in columns_of(con, "raw.quarantine") else "true"
        )
        still_quarantined = (
            "(select count(*) from raw.quarantine q where q.batch_id = newest.batch_id "
            f"and q.source = newest.source and {released})"
        )
    else:
        still_quarantined = "quarantined"
    return con.execute(
        f"""
        with per_batch as (
            select
                source,
                batch_id,
                max(ingested_at) as ingested_at,
                sum(rows_read) as rows_read,
                sum(loaded) as loaded,
                sum(duplicates) as duplicates,
                sum(quarantined) as quarantined
            from raw.ingest_files
            where source is not null
            group by source, batch_id
        ),
        ranked as (
            select *, row_number() over (
                partition by source order by ingested_at desc, batch_id desc
            ) as rn
            from per_batch
        ),
        newest as (select * from ranked where rn = 1),
        counted as (
            select newest.*, {still_quarantined} as still_quarantined from newest
        )
        select
            source,
            batch_id,
            rows_read,
            loaded,
            duplicates,
            quarantined,
            still_quarantined,
            rows_read - loaded - duplicates - quarantined as unreconciled_rows,
            case when rows_read > 0 then still_quarantined / rows_read else 0 end
                as quarantine_share
        from counted
        order by source
        """
    ).df()


# -- inventory -------------------------------------------------------------------


def conservation(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    domain = load_domain()
    states = _sql_list(domain.states)
    external = _sql_list(domain.external_states)
    return con.execute(
        f"""
        with legs as (
            select sku, to_state as state, quantity as qty from marts.fct_stock_movements
            union all
            select sku, from_state as state, -quantity as qty from marts.fct_stock_movements
        ),
        ledger as (
            select
                sku,
                sum(case when state in ({states}) then qty else 0 end) as ledger_imbalance,
                sum(case when state in ({external}) then qty else 0 end) as external_balance
            from legs
            group by sku
        ),
        on_hand as (
            select sku, sum(quantity) as on_hand from marts.fct_stock_on_hand group by sku
        ),
        per_sku as (
            select
                coalesce(ledger.sku, on_hand.sku) as sku,
                coalesce(on_hand.on_hand, 0) as on_hand,
                coalesce(ledger.external_balance, 0) as external_balance,
                coalesce(ledger.ledger_imbalance, 0) as ledger_imbalance
            from ledger
            full outer join on_hand on ledger.sku = on_hand.sku
        )
        select
            sku,
            on_hand,
            external_balance,
            ledger_imbalance,
            on_hand + external_balance as imbalance
        from per_sku
        order by abs(on_hand + external_balance) + abs(ledger_imbalance) desc, sku
        limit {INVARIANT_ROW_CAP}
        """
    ).df()


def non_negative(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    return con.execute(
        """
        select 'fct_stock_on_hand' as table_name, state, min(quantity) as min_quantity,
            count(*) as row_count
        from marts.fct_stock_on_hand group by state
        union all
        select 'fct_stock_daily' as table_name, state, min(quantity) as min_quantity,
            count(*) as row_count
        from marts.fct_stock_daily group by state
        order by table_name, state
        """
    ).df()


# -- finance ---------------------------------------------------------------------


def journal_balance(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    return con.execute(
        f"""
        with journals as (
            select
                journal_id,
                sum(coalesce(debit, 0)) as debit,
                sum(coalesce(credit, 0)) as credit
            from marts.fct_gl_entries
            group by journal_id
        )
        select
            journal_id,
            debit,
            credit,
            debit - credit as difference,
            abs(debit - credit) as abs_difference
        from journals
        order by abs(debit - credit) desc, journal_id
        limit {INVARIANT_ROW_CAP}
        """
    ).df()


def inventory_vs_gl(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    account = _sql_list([GL_INVENTORY_ACCOUNT])
    return con.execute(
        f"""
        with stock as (
            select cast(date as date) as date, sum(value) as stock_value
            from marts.fct_stock_daily
            group by 1
        ),
        gl as (
            select
                cast(posted_at as date) as date,
                sum(coalesce(debit, 0) - coalesce(credit, 0)) as gl_movement
            from marts.fct_gl_entries
            where lower(account) = {account}
            group by 1
        ),
        days as (
            select date from stock union select date from gl
        ),
        daily as (
            select
                days.date,
                coalesce(stock.stock_value, 0) as stock_value,
                sum(coalesce(gl.gl_movement, 0)) over (
                    order by days.date rows between unbounded preceding and current row
                ) as gl_balance
            from days
            left join stock on days.date = stock.date
            left join gl on days.date = gl.date
        )
        select
            date,
            stock_value,
            gl_balance,
            stock_value - gl_balance as difference,
            abs(stock_value - gl_balance) as abs_difference
        from daily
        order by date
        """
    ).df()


# -- returns ---------------------------------------------------------------------


def refund_cap(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    order_columns = columns_of(con, "marts.fct_order_lines")
    paid = next(c for c in ("paid_amount", "amount_paid", "net_revenue") if c in order_columns)
    return con.execute(
        f"""
        with refunds as (
            select order_line_id, sum(refund_amount) as refunded
            from marts.fct_return_lines
            where refund_amount is not null
            group by order_line_id
            having sum(refund_amount) > 0
        ),
        paid as (
            select order_line_id, sum({_q(paid)}) as paid
            from marts.fct_order_lines
            group by order_line_id
        )
        select
            refunds.order_line_id,
            refunds.refunded,
            coalesce(paid.paid, 0) as paid,
            '{paid}' as paid_column,
            refunds.refunded - coalesce(paid.paid, 0) as excess
        from refunds
        left join paid on refunds.order_line_id = paid.order_line_id
        order by refunds.refunded - coalesce(paid.paid, 0) desc, refunds.order_line_id
        limit {INVARIANT_ROW_CAP}
        """
    ).df()


def _rules_relation(con: duckdb.DuckDBPyConnection) -> str:
    """The product-class disposition rules: the dbt seed when built, else the domain model."""
    if "domain.domain_product_class_dispositions" in existing_tables(con):
        return "(select product_class, disposition from domain.domain_product_class_dispositions)"
    domain = load_domain()
    rows = [
        f"({_sql_list([cls])}, {_sql_list([d])})"
        for cls in domain.product_classes
        for d in domain.allowed_dispositions(cls)
    ]
    return f"(select * from (values {', '.join(rows)}) as t(product_class, disposition))"


def dispositions(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    rules = _rules_relation(con)
    return con.execute(
        f"""
        with lines as (
            select
                coalesce(dim_sku.product_class, 'unknown') as product_class,
                r.disposition,
                r.quantity
            from marts.fct_return_lines r
            left join marts.dim_sku on r.sku = dim_sku.sku
            where r.disposition is not null
        ),
        rules as {rules}
        select
            lines.product_class,
            lines.disposition,
            count(*) as return_lines,
            sum(lines.quantity) as units,
            bool_or(rules.disposition is not null) as allowed
        from lines
        left join rules
            on lines.product_class = rules.product_class
            and lines.disposition = rules.disposition
        group by lines.product_class, lines.disposition
        order by lines.product_class, lines.disposition
        """
    ).df()


# -- operations --------------------------------------------------------------------


def _sla_relation(con: duckdb.DuckDBPyConnection) -> str:
    if "domain.domain_node_types" in existing_tables(con):
        return "(select node_type, stale_after_minutes from domain.domain_node_types)"
    rows = [
        f"({_sql_list([name])}, {int(spec['stale_after_minutes'])})"
        for name, spec in load_domain().node_types.items()
    ]
    return f"(select * from (values {', '.join(rows)}) as t(node_type, stale_after_minutes))"


def node_freshness(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    sla = _sla_relation(con)
    return con.execute(
        f"""
        with events as (
            select
                node_id,
                event_time,
                date_diff('second', event_time, ingested_at) / 60.0 as latency_minutes
            from raw.stock_events
        ),
        bounds as (
            select min(event_time) as first_event, max(event_time) as as_of from events
        ),
        per_node as (
            select
                node_id,
                max(event_time) as last_event_time,
                quantile_cont(latency_minutes, 0.95) as latency_p95_minutes,
                count(*) as events
            from events
            group by node_id
        ),
        sla as {sla},
        nodes as (
            select
                dim_node.node_id,
                dim_node.node_type,
                cast(sla.stale_after_minutes as double) as stale_after_minutes
            from marts.dim_node
            left join sla on dim_node.node_type = sla.node_type
        )
        select
            nodes.node_id,
            nodes.node_type,
            nodes.stale_after_minutes,
            per_node.last_event_time,
            bounds.as_of,
            coalesce(per_node.events, 0) as events,
            date_diff('second', coalesce(per_node.last_event_time, bounds.first_event), bounds.as_of)
                / 60.0 as minutes_since_last_event,
            per_node.latency_p95_minutes,
            date_diff('second', coalesce(per_node.last_event_time, bounds.first_event), bounds.as_of)
                / 60.0 - nodes.stale_after_minutes as stale_excess_minutes,
            per_node.latency_p95_minutes - nodes.stale_after_minutes as latency_excess_minutes
        from nodes
        cross join bounds
        left join per_node on nodes.node_id = per_node.node_id
        order by nodes.node_id
        """
    ).df()


def kpi_daily(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    governed = load_kpis()
    rows = ", ".join(f"({_sql_list([k])}, {_sql_list([u])})" for k, u in sorted(governed.items()))
    return con.execute(
        f"""
        with governed as (
            select * from (values {rows}) as t(kpi, unit)
        ),
        keys as (
            select kpi, date, dimension, dimension_value, count(*) as n
            from marts.kpi_daily
            group by kpi, date, dimension, dimension_value
        ),
        per_kpi as (
            select
                k.kpi,
                count(*) as row_count,
                count(*) filter (where k.dimension = 'all') as total_rows,
                count(*) filter (
                    where g.unit = 'ratio' and (k.value < 0 or k.value > 1)
                ) as ratio_out_of_range
            from marts.kpi_daily k
            left join governed g on k.kpi = g.kpi
            group by k.kpi
        ),
        dupes as (
            select kpi, sum(n - 1) as duplicate_keys from keys group by kpi
        )
        select
            coalesce(per_kpi.kpi, governed.kpi) as kpi,
            governed.unit,
            governed.kpi is not null as governed,
            coalesce(per_kpi.row_count, 0) as row_count,
            coalesce(per_kpi.total_rows, 0) as total_rows,
            coalesce(per_kpi.ratio_out_of_range, 0) as ratio_out_of_range,
            coalesce(dupes.duplicate_keys, 0) as duplicate_keys
        from per_kpi
        full outer join governed on per_kpi.kpi = governed.kpi
        left join dupes on coalesce(per_kpi.kpi, governed.kpi) = dupes.kpi
        order by 1
        """
    ).df()


def load_kpis() -> dict[str, str]:
    """Governed KPI name -> unit, from models/kpis.yml. A ratio that is not a share
    (`bounded: false`, e.g. a margin rate that can go negative) is not held to 0-1."""
    with KPIS_FILE.open(encoding="utf-8") as handle:
        kpis = yaml.safe_load(handle)["kpis"]
    return {
        name: ("ratio" if spec.get("bounded", True) else "unbounded_ratio")
        if spec["unit"] == "ratio"
        else spec["unit"]
        for name, spec in kpis.items()
    }


BUILDERS: dict[str, Builder] = {
    "kpi_daily": kpi_daily,
    "landing_events": landing_events,
    "landing_batches": landing_batches,
    "conservation": conservation,
    "non_negative": non_negative,
    "journal_balance": journal_balance,
    "inventory_vs_gl": inventory_vs_gl,
    "refund_cap": refund_cap,
    "dispositions": dispositions,
    "node_freshness": node_freshness,
}


def build_frame(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    return BUILDERS[suite.frame](con, suite)
