"""DDL of the raw layer, generated from the domain model."""

from __future__ import annotations

import duckdb

from opsledger.models.domain import Domain

# columns ingest adds to every raw event table
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("batch_id", "VARCHAR NOT NULL"),
    ("source_file", "VARCHAR NOT NULL"),
    ("line_number", "BIGINT NOT NULL"),
    ("ingested_at", "TIMESTAMPTZ NOT NULL"),
)

QUARANTINE_DDL = """
CREATE SEQUENCE IF NOT EXISTS raw.quarantine_seq;
CREATE TABLE IF NOT EXISTS raw.quarantine (
    quarantine_id BIGINT NOT NULL,
    batch_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    line_number BIGINT,
    raw_text VARCHAR,
    reason VARCHAR NOT NULL,
    detail VARCHAR,
    retryable BOOLEAN NOT NULL,
    event_id VARCHAR,
    event_type VARCHAR,
    payload JSON,               -- the parsed field values, so held rows can be re-validated
    quarantined_at TIMESTAMPTZ NOT NULL,
    released_at TIMESTAMPTZ,
    released_batch_id VARCHAR,
    release_outcome VARCHAR     -- loaded | duplicate
);
"""

# event ids an admin revoked (opsledger events revoke): kept out of raw and of every
# later load (a redelivery counts as a duplicate of the revoked event)
REVOCATIONS_DDL = """
CREATE TABLE IF NOT EXISTS raw.revocations (
    event_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL,
    revoked_by VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);
"""

FILES_DDL = """
CREATE TABLE IF NOT EXISTS raw.ingest_files (
    content_hash VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    source VARCHAR,
    size BIGINT NOT NULL,
    mtime_ns BIGINT,
    status VARCHAR NOT NULL,    -- loaded | skipped | rejected | empty
    rows_read BIGINT NOT NULL,
    loaded BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    batch_id VARCHAR NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    seconds DOUBLE,
    message VARCHAR,
    arrived_at TIMESTAMPTZ      -- when the file arrived: its mtime, at the latest first seen
);
-- homes ingested before arrival times were recorded
ALTER TABLE raw.ingest_files ADD COLUMN IF NOT EXISTS arrived_at TIMESTAMPTZ;
CREATE TABLE IF NOT EXISTS raw.ingest_batches (
    batch_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,    -- running | done | failed
    files BIGINT, files_skipped BIGINT, rows_read BIGINT, loaded BIGINT,
    duplicates BIGINT, quarantined BIGINT, released BIGINT,
    message VARCHAR
);
"""


def q(identifier: str) -> str:
    """Quote an identifier that comes from the domain model (never from input)."""
    return '"' + identifier.replace('"', '""') + '"'


def events_table(source: str) -> str:
    return f"raw.{q(source + '_events')}"


def events_ddl(domain: Domain, source: str) -> str:
    cols = [f"{q(f)} {domain.fields[f].sql_type}" for f in domain.source_fields(source)]
    cols += [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS]
    return (
        f"CREATE TABLE IF NOT EXISTS {events_table(source)} (\n    " + ",\n    ".join(cols) + "\n)"
    )


def ensure_schema(con: duckdb.DuckDBPyConnection, domain: Domain) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(QUARANTINE_DDL)
    con.execute(FILES_DDL)
    con.execute(REVOCATIONS_DDL)
    for source in domain.sources:
        con.execute(events_ddl(domain, source))
        # columns added to the domain model later are added to existing tables
        have = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'raw' AND table_name = ?",
                [source + "_events"],
            ).fetchall()
        }
        for f in domain.source_fields(source):
            if f not in have:
                con.execute(
                    f"ALTER TABLE {events_table(source)} ADD COLUMN {q(f)} "
                    f"{domain.fields[f].sql_type}"
                )
