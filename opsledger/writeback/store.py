"""The durable write-back store: `<home>/writeback.sqlite`, separate from the warehouse.

SQLite in WAL mode with synchronous=FULL: many processes (app sessions, the CLI, a
refresh) may write it at once, each write is one short `BEGIN IMMEDIATE` transaction,
and a committed row survives a crash. The published warehouse is never written here.

`inbox` is the append-only journal of every submission, approval, rejection and
export: triggers abort any UPDATE or DELETE, and this package has no code that
issues one. The audit page is a view of it. `users` is the only mutable table
(disable flips a flag; the change is journalled in the inbox too).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from opsledger.paths import HomePaths

STORE_NAME = "writeback.sqlite"

ENTRIES = ("submitted", "approved", "rejected", "exported", "user_added", "user_disabled")

SCHEMA = f"""
create table if not exists users (
    username text primary key,
    role text not null,
    password_hash text not null,
    disabled integer not null default 0,
    created_at text not null
);
create table if not exists inbox (
    seq integer primary key autoincrement,
    submission_id text not null,
    entry text not null check (entry in ({", ".join(f"'{e}'" for e in ENTRIES)})),
    at text not null,
    actor text not null,
    role text not null,
    kind text,
    payload text,
    value real,
    needs_approval integer,
    build_id text,
    comment text,
    event_ids text,
    unique (submission_id, entry)
);
create index if not exists inbox_by_submission on inbox (submission_id);
create trigger if not exists inbox_no_update before update on inbox
begin select raise(abort, 'the write-back inbox is append-only'); end;
create trigger if not exists inbox_no_delete before delete on inbox
begin select raise(abort, 'the write-back inbox is append-only'); end;
"""


_INITIALISED: set[str] = set()


def store_path(home: Path | str | None) -> Path:
    return HomePaths.at(home).root / STORE_NAME


def now_utc() -> str:
    """ISO 8601 UTC with microseconds and a zone (the contract's timestamp format)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@contextmanager
def connect(home: Path | str | None) -> Iterator[sqlite3.Connection]:
    path = store_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    try:
        con.row_factory = sqlite3.Row
        con.execute("pragma busy_timeout = 60000")
        con.execute("pragma synchronous = full")
        if str(path) not in _INITIALISED:
            con.execute("pragma journal_mode = wal")  # persistent: once per file
            con.executescript(SCHEMA)
            _INITIALISED.add(str(path))
        yield con
    finally:
        con.close()


@contextmanager
def transaction(home: Path | str | None) -> Iterator[sqlite3.Connection]:
    """One write transaction, serialised with every other writer (BEGIN IMMEDIATE)."""
    with connect(home) as con:
        con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
