"""Data quality: last gate results, freshness per node, quarantine, ingested files."""

from __future__ import annotations

import duckdb
import polars as pl
from opsledger.app.warehouse import columns, pick, query, require


def gate_results(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every expectation of the last gate run (failures first)."""
    require(con, "ops.gate_results")
    cols = columns(con, "ops.gate_results")
    run_col = pick(cols, "run_id", "build_id")
    latest = (
        f" where {run_col} = (select {run_col} from ops.gate_results"
        f" order by {run_col} desc limit 1)"
        if run_col
        else ""
    )
    return query(
        con,
        f"select * from ops.gate_results{latest}"
        " order by success, case severity when 'error' then 0 else 1 end, suite, expectation",
    )


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rows in quarantine by source and reason (still held vs released later)."""
    require(con, "raw.quarantine")
    cols = columns(con, "raw.quarantine")
    released = "released_at" in cols
    held = "count(*) filter (where released_at is null)" if released else "count(*)"
    return query(
        con,
        f"select source, reason, count(*) as rows_quarantined, {held} as still_held,"
        " max(quarantined_at) as last_seen"
        " from raw.quarantine group by all order by rows_quarantined desc",
    )


def quarantine_sample(con: duckdb.DuckDBPyConnection, source: str, reason: str) -> pl.DataFrame:
    require(con, "raw.quarantine")
    cols = columns(con, "raw.quarantine")
    wanted = [
        c
        for c in (
            "source_file",
            "line_number",
            "reason",
            "detail",
            "event_id",
            "event_type",
            "raw_text",
            "quarantined_at",
        )
        if c in cols
    ]
    return query(
        con,
        f"select {', '.join(wanted)} from raw.quarantine"
        " where source = $source and reason = $reason order by quarantine_id limit 200"
        if "quarantine_id" in cols
        else f"select {', '.join(wanted)} from raw.quarantine"
        " where source = $source and reason = $reason limit 200",
        {"source": source, "reason": reason},
    )


def ingest_files(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    require(con, "raw.ingest_files")
    return query(
        con,
        "select source, status, count(*) as files, sum(rows_read) as rows_read,"
        " sum(loaded) as loaded, sum(duplicates) as duplicates, sum(quarantined) as quarantined,"
        " max(ingested_at) as last_ingested_at"
        " from raw.ingest_files group by all order by source, status",
    )


def publications(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    require(con, "ops.publications")
    return query(
        con,
        "select build_id, published_at, events_total, dbt_passed, dbt_warned, dbt_failed,"
        " gate_success, gate_warnings from ops.publications order by published_at desc limit 20",
    )
