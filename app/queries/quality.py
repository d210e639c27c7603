"""Data quality: last gate results, freshness per node, quarantine, ingested files."""

from __future__ import annotations

import duckdb
import polars as pl

from opsledger.app.warehouse import query, require
from opsledger.core.publications import recorded_columns

# The last gate run of ops.gate_results (written by opsledger.expectations.gate):
# run ids start with their UTC start time, so the greatest is the latest.
LAST_GATE_RUN = "run_id = (select max(run_id) from ops.gate_results)"


def gate_results(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every expectation of the last gate run (failures first)."""
    require(con, "ops.gate_results")
    return query(
        con,
        f"select * from ops.gate_results where {LAST_GATE_RUN}"
        " order by success, case severity when 'error' then 0 else 1 end, suite, expectation",
    )


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rows in quarantine by source and reason (still held vs released later)."""
    require(con, "raw.quarantine")
    return query(
        con,
        "select source, reason, count(*) as rows_quarantined,"
        " count(*) filter (where released_at is null) as still_held,"
        " max(quarantined_at) as last_seen"
        " from raw.quarantine group by all order by rows_quarantined desc",
    )


def quarantine_sample(con: duckdb.DuckDBPyConnection, source: str, reason: str) -> pl.DataFrame:
    require(con, "raw.quarantine")
    return query(
        con,
        "select source_file, line_number, reason, detail, event_id, event_type, raw_text,"
        " quarantined_at from raw.quarantine where source = $source and reason = $reason"
        " order by quarantine_id limit 200",
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
    """The latest publications, the engine that built each (duckdb or spark) and how
    each was audited: `full` (every test on every row) or `build` (what the build
    wrote); warehouses published before the audit kinds or the engines say neither."""
    require(con, "ops.publications")
    recorded = recorded_columns(con)
    audit = "audit, last_full_audit_at," if "audit" in recorded else ""
    engine = "coalesce(engine, 'duckdb') as engine," if "engine" in recorded else ""
    return query(
        con,
        f"select build_id, published_at, {engine} {audit} events_total, dbt_passed,"
        " dbt_warned, dbt_failed, gate_success, gate_warnings from ops.publications"
        " order by published_at desc limit 20",
    )
