"""`opsledger events show / revoke`: where an event is, and an admin's audited revocation.

A revocation moves loaded events out of raw into quarantine (reason `revoked`, the
row's values kept as payload), records them in raw.revocations (so a redelivery is
a duplicate, never reloaded) and writes who, when and why to an append-only log in
the write-back store (SQLite triggers refuse updates and deletes). The next refresh
drops them from its build and rebuilds every model (opsledger.build), so whatever
they touched is recomputed without them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from opsledger.core.paths import HomePaths
from opsledger.ingest.pipeline import connect as connect_raw
from opsledger.ingest.pipeline import ingest_lock
from opsledger.ingest.reasons import Reason
from opsledger.ingest.schema import ensure_schema, events_table
from opsledger.models import load_domain
from opsledger.writeback.store import connect as connect_store
from opsledger.writeback.store import now_utc, transaction
from opsledger.writeback.users import User, WritebackError, authorize

LOG_DDL = """
create table if not exists event_revocations (
    seq integer primary key autoincrement,
    event_id text not null,
    source text not null,
    at text not null,
    actor text not null,
    role text not null,
    reason text not null,
    batch_id text
);
create trigger if not exists event_revocations_no_update before update on event_revocations
begin select raise(abort, 'the revocation log is append-only'); end;
create trigger if not exists event_revocations_no_delete before delete on event_revocations
begin select raise(abort, 'the revocation log is append-only'); end;
"""


@dataclass
class Revocation:
    revoked: list[dict] = field(default_factory=list)
    already_revoked: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _find_loaded(con: duckdb.DuckDBPyConnection, event_id: str) -> tuple[str, dict] | None:
    for source in load_domain().sources:
        cur = con.execute(f"select * from {events_table(source)} where event_id = ?", [event_id])
        row = cur.fetchone()
        if row is not None:
            names = [d[0] for d in cur.description]
            return source, dict(zip(names, row, strict=True))
    return None


def revoke_events(
    home: Path | str | None, user: str | User | None, event_ids: list[str], reason: str
) -> Revocation:
    """Revoke loaded events (admin only, checked against the user store now): all of them
    or, on any error, none."""
    user = authorize(home, user, "admin", "revoke events")
    reason = " ".join((reason or "").split())
    if not reason:
        raise WritebackError("Say why: a reason is required to revoke events.")
    ids = list(dict.fromkeys(e.strip() for e in event_ids if e and e.strip()))
    if not ids:
        raise WritebackError("Name at least one event id.")
    paths = HomePaths.at(home).ensure()
    domain = load_domain()
    result = Revocation()
    with ingest_lock(paths.ingest_lock):
        con = connect_raw(paths, "512MB", 1)
        try:
            ensure_schema(con, domain)
            found: list[tuple[str, str, dict]] = []
            missing: list[str] = []
            for event_id in ids:
                hit = _find_loaded(con, event_id)
                if hit is not None:
                    found.append((event_id, *hit))
                elif con.execute(
                    "select 1 from raw.revocations where event_id = ?", [event_id]
                ).fetchone():
                    result.already_revoked.append(event_id)
                else:
                    missing.append(event_id)
            if missing:
                raise WritebackError(f"Not loaded, nothing to revoke: {', '.join(missing)}.")
            at = datetime.now(UTC)
            batch_id = f"revoke-{at.strftime('%Y%m%dT%H%M%S')}-{user.username}"
            # the audit first: a crash after it leaves an entry without effect (visible,
            # harmless), never an effect without its entry
            ensure_log(paths.root)
            with transaction(paths.root) as tx:
                for event_id, source, _ in found:
                    tx.execute(
                        "insert into event_revocations (event_id, source, at, actor, role, "
                        "reason, batch_id) values (?, ?, ?, ?, ?, ?, ?)",
                        [event_id, source, now_utc(), user.username, user.role, reason, batch_id],
                    )
            con.execute("BEGIN TRANSACTION")
            try:
                for event_id, source, row in found:
                    payload = {
                        k: (None if v is None else str(v))
                        for k, v in row.items()
                        if k not in ("batch_id", "source_file", "line_number", "ingested_at")
                    }
                    con.execute(
                        "INSERT INTO raw.quarantine (quarantine_id, batch_id, source, source_file, "
                        "line_number, raw_text, reason, detail, retryable, event_id, event_type, "
                        "payload, quarantined_at) VALUES (nextval('raw.quarantine_seq'), ?, ?, ?, "
                        "?, NULL, ?, ?, false, ?, ?, ?, ?)",
                        [
                            batch_id, source, row["source_file"], row["line_number"],
                            Reason.REVOKED.value, f"by {user.username}: {reason}", event_id,
                            row.get("event_type"), json.dumps(payload), at,
                        ],
                    )  # fmt: skip
                    con.execute(
                        f"DELETE FROM {events_table(source)} WHERE event_id = ?", [event_id]
                    )
                    con.execute(
                        "INSERT INTO raw.revocations VALUES (?, ?, ?, ?, ?)",
                        [event_id, source, at, user.username, reason],
                    )
                    result.revoked.append(
                        {
                            "event_id": event_id,
                            "source": source,
                            "event_type": row.get("event_type"),
                        }
                    )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()
    return result


def ensure_log(home: Path | str | None) -> None:
    with connect_store(home) as con:
        con.executescript(LOG_DDL)


def revocation_log(home: Path | str | None) -> list[dict]:
    ensure_log(home)
    with connect_store(home) as con:
        rows = con.execute("select * from event_revocations order by seq").fetchall()
    return [dict(r) for r in rows]


def _raw_rows(home: HomePaths, sql: str, params: list) -> list[dict]:
    if not home.raw_db.exists():
        return []
    con = duckdb.connect()
    try:
        db = str(home.raw_db).replace("'", "''")
        con.execute(f"ATTACH '{db}' AS r (READ_ONLY)")
        con.execute("USE r")
        try:
            cur = con.execute(sql, params)
        except duckdb.CatalogException:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def show_event(home: Path | str | None, event_id: str) -> dict:
    """Where an event is (loaded, quarantined, held, revoked, or unknown) and, when
    published, what it touched: stock movements and ledger exceptions."""
    from opsledger.core.readonly import connect_read_only

    paths = HomePaths.at(home)
    out: dict = {"event_id": event_id, "state": "unknown", "raw": None, "quarantine": []}
    for source in load_domain().sources:
        rows = _raw_rows(
            paths,
            f"select * from {events_table(source)} where event_id = ?",
            [event_id],
        )
        if rows:
            out["state"], out["source"] = "loaded", source
            out["raw"] = {k: (None if v is None else str(v)) for k, v in rows[0].items()}
            break
    quarantined = _raw_rows(
        paths,
        "select source, source_file, line_number, reason, detail, retryable, quarantined_at, "
        "released_at, release_outcome from raw.quarantine where event_id = ? "
        "order by quarantined_at",
        [event_id],
    )
    out["quarantine"] = [
        {k: (None if v is None else str(v)) for k, v in q.items()} for q in quarantined
    ]
    if out["state"] == "unknown" and quarantined:
        last = quarantined[-1]
        if last["reason"] == Reason.REVOKED.value:
            out["state"] = "revoked"
        elif last["released_at"] is None and last["retryable"]:
            out["state"] = "held"
        elif last["released_at"] is None:
            out["state"] = "quarantined"
    out["revocations"] = [r for r in revocation_log(paths.root) if r["event_id"] == event_id]
    touched: dict = {}
    if paths.warehouse.exists():
        con = connect_read_only(paths.warehouse)
        try:
            cur = con.execute(
                "select movement_id, sku, from_node, from_state, to_node, to_state, quantity, "
                "value from marts.fct_stock_movements where event_id = ? order by movement_id",
                [event_id],
            )
            names = [d[0] for d in cur.description]
            touched["stock_movements"] = [
                {
                    k: (v if isinstance(v, int) or v is None else str(v))
                    for k, v in zip(names, r, strict=True)
                }
                for r in cur.fetchall()
            ]
            try:
                touched["ledger_exceptions"] = [
                    r[0]
                    for r in con.execute(
                        "select exception_id from marts.fct_ledger_exceptions "
                        "where list_contains(string_split(event_ids, ','), ?) order by 1",
                        [event_id],
                    ).fetchall()
                ]
            except duckdb.CatalogException:
                touched["ledger_exceptions"] = []
            row = con.execute(
                "select build_id from ops.publications order by published_at desc limit 1"
            ).fetchone()
            touched["publication"] = row[0] if row else None
        finally:
            con.close()
    out["touched"] = touched
    return out
