"""Bounded pandas frames the suites validate, computed in DuckDB from a build database.

GX validates pandas dataframes here, never DuckDB through SQLAlchemy (see README):
each frame is either the newest ingested batch of a source (capped) or a small
table DuckDB computes over the marts (one row per mart, governed column, KPI or
node), so the gate's cost does not grow with the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd
import yaml

from opsledger.expectations.definitions import LANDING_ROW_CAP, Suite
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


# -- distributions of the published marts ------------------------------------


def mart_row_counts(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    """Rows of each core mart whose source has delivered events (others are left
    out: a merchant without purchase orders has an empty fct_po_lines)."""
    tables = existing_tables(con)
    events = {
        source: con.execute(f"select count(*) from raw.{_q(source + '_events')}").fetchone()[0]
        for source in load_domain().sources
        if f"raw.{source}_events" in tables
    }
    rows = []
    for mart, source in suite.params["marts"].items():
        source_events = sum(events.values()) if source is None else events.get(source, 0)
        if source_events == 0:
            continue
        count = con.execute(f"select count(*) from marts.{_q(mart)}").fetchone()[0]
        rows.append(
            {
                "mart": mart,
                "source": source or "any",
                "source_events": source_events,
                "row_count": count,
            }
        )
    return pd.DataFrame(rows, columns=["mart", "source", "source_events", "row_count"])


def mart_null_share(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    rows = []
    for (mart, column), limit in suite.params["limits"].items():
        total, nulls = con.execute(
            f"select count(*), count(*) - count({_q(column)}) from marts.{_q(mart)}"
        ).fetchone()
        share = nulls / total if total else 0.0
        rows.append(
            {
                "mart": mart,
                "column_name": column,
                "row_count": total,
                "null_share": share,
                "max_null_share": limit,
                "null_excess": max(share - limit, 0.0),
            }
        )
    return pd.DataFrame(rows)


def kpi_daily(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    """Per governed KPI: rows, rows outside its unit's governed range, null share."""
    ranges = suite.params["ranges"]

    def bound(value: float | None) -> str:
        return "null" if value is None else repr(float(value))

    rows = ", ".join(
        f"({_sql_list([kpi])}, {_sql_list([unit])}, "
        f"{bound(ranges.get(unit, (None, None))[0])}, {bound(ranges.get(unit, (None, None))[1])})"
        for kpi, unit in sorted(load_kpis().items())
    )
    return con.execute(
        f"""
        with governed as (
            select * from (values {rows}) as t(kpi, unit, min_value, max_value)
        )
        select
            governed.kpi,
            governed.unit,
            governed.min_value,
            governed.max_value,
            count(k.kpi) as row_count,
            count(k.kpi) filter (
                where k.value < governed.min_value or k.value > governed.max_value
            ) as out_of_range,
            min(k.value) as min_observed,
            max(k.value) as max_observed,
            case when count(k.kpi) > 0
                then (count(k.kpi) - count(k.value)) / count(k.kpi) end as null_share
        from governed
        left join marts.kpi_daily k on governed.kpi = k.kpi
        group by all
        order by governed.kpi
        """
    ).df()


def node_freshness(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    return con.execute(
        """
        select node_id, node_type, is_stale, minutes_since_last_event, stale_after_minutes,
            data_as_of, feed_note
        from marts.fct_node_freshness
        order by node_id
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
    "landing_events": landing_events,
    "landing_batches": landing_batches,
    "mart_row_counts": mart_row_counts,
    "mart_null_share": mart_null_share,
    "kpi_daily": kpi_daily,
    "node_freshness": node_freshness,
}


def build_frame(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    return BUILDERS[suite.frame](con, suite)
