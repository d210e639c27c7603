"""Writes classified rows: raw events, quarantine, file records, releases.

Callers wrap a batch's writes in ONE transaction (see pipeline._Run.flush); the
functions here only issue statements and return the row counts they wrote.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from opsledger.ingest.reasons import Reason
from opsledger.ingest.schema import events_table, q
from opsledger.models.domain import Domain


def _typed(domain: Domain, f: str) -> str:
    if f == "quantity":
        return "_qty"  # cycle counts: |counted - system|
    if f == "from_state":
        return "_from"  # filled from the default transition
    if f == "to_state":
        return "_to"
    spec = domain.fields[f]
    if spec.sql_type == "VARCHAR":
        return q(f)
    return f"try_cast({q(f)} AS {spec.sql_type})"


def insert_events(
    con: duckdb.DuckDBPyConnection,
    domain: Domain,
    source: str,
    batch_id: str,
    now: datetime,
) -> int:
    fields = domain.source_fields(source)
    cols = ", ".join(q(f) for f in fields)
    values = ", ".join(_typed(domain, f) for f in fields)
    row = con.execute(
        f"INSERT INTO {events_table(source)} ({cols}, batch_id, source_file, line_number, "
        f"ingested_at) SELECT {values}, $batch, _file, _line, $now "
        "FROM _classified WHERE _status = 'loaded' ORDER BY _ln",
        {"batch": batch_id, "now": now},
    ).fetchone()
    return int(row[0]) if row else 0


def insert_quarantine(
    con: duckdb.DuckDBPyConnection,
    domain: Domain,
    source: str,
    batch_id: str,
    now: datetime,
) -> int:
    fields = domain.source_fields(source)
    payload = "to_json(struct_pack(" + ", ".join(f"{q(f)} := {q(f)}" for f in fields) + "))"
    row = con.execute(
        "INSERT INTO raw.quarantine (quarantine_id, batch_id, source, source_file, line_number, "
        "raw_text, reason, detail, retryable, event_id, event_type, payload, quarantined_at) "
        "SELECT nextval('raw.quarantine_seq'), $batch, $source, _file, _line, "
        f"coalesce(_raw, {payload}::VARCHAR), _reason, _detail, _retry, event_id, event_type, "
        f"{payload}, $now FROM _classified WHERE _status = 'quarantined' ORDER BY _ln",
        {"batch": batch_id, "source": source, "now": now},
    ).fetchone()
    return int(row[0]) if row else 0


def insert_tail(
    con: duckdb.DuckDBPyConnection,
    source: str,
    batch_id: str,
    file: str,
    line: int,
    text: str,
    now: datetime,
) -> None:
    """The partial last line of a truncated compressed file."""
    con.execute(
        "INSERT INTO raw.quarantine (quarantine_id, batch_id, source, source_file, line_number, "
        "raw_text, reason, detail, retryable, quarantined_at) VALUES "
        "(nextval('raw.quarantine_seq'), ?, ?, ?, ?, ?, ?, ?, false, ?)",
        [
            batch_id,
            source,
            file,
            line,
            text,
            Reason.TRUNCATED_FILE.value,
            "the file ends inside this line",
            now,
        ],
    )


def record_file(con: duckdb.DuckDBPyConnection, **row: object) -> None:
    record_files(con, [row])


def record_files(con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]]) -> None:
    """Insert file records (all with the same keys) in one statement."""
    if not rows:
        return
    keys = list(rows[0])
    cols = ", ".join(keys)
    marks = "(" + ", ".join("?" for _ in keys) + ")"
    values = ", ".join(marks for _ in rows)
    con.execute(
        f"INSERT INTO raw.ingest_files ({cols}) VALUES {values}",
        [row[k] for row in rows for k in keys],
    )


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """_file -> {loaded, duplicate, quarantined} over `_classified`."""
    rows = con.execute("SELECT _file, _status, count(*) FROM _classified GROUP BY ALL").fetchall()
    got: dict[str, dict[str, int]] = {}
    for file, status, n in rows:
        got.setdefault(file, {"loaded": 0, "duplicate": 0, "quarantined": 0})[status] = int(n)
    return got


# -- release of held (early-arriving) rows ------------------------------------------
def held_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT source FROM raw.quarantine WHERE retryable AND released_at IS NULL "
            "ORDER BY source = 'master' DESC, source"
        ).fetchall()
    ]


def stage_held(con: duckdb.DuckDBPyConnection, domain: Domain, source: str) -> int:
    """`_stage` from held quarantine rows, re-parsed from their stored payload."""
    fields = domain.source_fields(source)
    struct = "{" + ", ".join(f'"{f}": "VARCHAR"' for f in fields) + "}"
    cols = ", ".join(f"_j.{q(f)} AS {q(f)}" for f in fields)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _stage AS SELECT quarantine_id AS _ln, line_number AS _line, "
        "source_file AS _file, raw_text AS _raw, NULL::VARCHAR AS _reason, "
        f"NULL::VARCHAR AS _detail, {cols} FROM (SELECT *, from_json(payload, '{struct}') AS _j "
        "FROM raw.quarantine WHERE source = ? AND retryable AND released_at IS NULL)",
        [source],
    )
    (n,) = con.execute("SELECT count(*) FROM _stage").fetchone()
    return int(n)


def apply_release(
    con: duckdb.DuckDBPyConnection, domain: Domain, source: str, batch_id: str, now: datetime
) -> tuple[int, int]:
    """Load the held rows that now pass; returns (released_loaded, released_duplicate)."""
    loaded = insert_events(con, domain, source, batch_id, now)
    con.execute(
        "UPDATE raw.quarantine SET released_at = $now, released_batch_id = $batch, "
        "release_outcome = CASE c._status WHEN 'loaded' THEN 'loaded' ELSE 'duplicate' END "
        "FROM _classified c WHERE raw.quarantine.quarantine_id = c._ln "
        "AND c._status IN ('loaded', 'duplicate')",
        {"now": now, "batch": batch_id},
    )
    # still failing: keep the current reason (may have become permanent)
    con.execute(
        "UPDATE raw.quarantine SET reason = c._reason, detail = c._detail, retryable = c._retry "
        "FROM _classified c WHERE raw.quarantine.quarantine_id = c._ln "
        "AND c._status = 'quarantined'"
    )
    (dups,) = con.execute("SELECT count(*) FROM _classified WHERE _status = 'duplicate'").fetchone()
    return loaded, int(dups)
