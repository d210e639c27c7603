"""The durable write-back store: `<home>/writeback.sqlite`, separate from the warehouse.

SQLite in WAL mode with synchronous=FULL: many processes (app sessions, the CLI, a
refresh) may write it at once, each write is one short `BEGIN IMMEDIATE` transaction,
and a committed row survives a crash. The published warehouse is never written here.
The file (and its -wal/-shm companions) is created 0600: only the owner reads it.

`inbox` is the append-only journal of every submission, approval, rejection, export,
user change and sign-in lockout: triggers abort any UPDATE or DELETE, and this package
has no code that issues one. Triggers live inside the file, so they are not the
guarantee: every entry carries `hash` = HMAC-SHA256(key, previous hash + the entry),
keyed by `<home>/.audit.key` (0600), and `users` rows carry the hash of the journal
entry that last set them. `opsledger audit verify` (opsledger.writeback.chain)
recomputes both and names the first broken record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from opsledger.core.paths import HomePaths

STORE_NAME = "writeback.sqlite"
KEY_NAME = ".audit.key"
GENESIS = "0" * 64

ENTRIES = (
    "submitted",
    "approved",
    "rejected",
    "exported",
    "user_added",
    "user_disabled",
    "signin_locked",
)
# the columns of an inbox entry that its hash covers (all but the hash itself)
CHAINED = (
    "seq",
    "submission_id",
    "entry",
    "at",
    "actor",
    "role",
    "kind",
    "payload",
    "value",
    "needs_approval",
    "build_id",
    "comment",
    "event_ids",
    "prev_hash",
)
USER_CHAINED = ("username", "role", "password_hash", "disabled", "created_at", "journal_hash")

INBOX_TABLE = f"""
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
    prev_hash text,
    hash text,
    unique (submission_id, entry)
);
"""
TRIGGER_STATEMENTS = (
    "create index if not exists inbox_by_submission on inbox (submission_id)",
    "create trigger if not exists inbox_no_update before update on inbox "
    "begin select raise(abort, 'the write-back inbox is append-only'); end",
    "create trigger if not exists inbox_no_delete before delete on inbox "
    "begin select raise(abort, 'the write-back inbox is append-only'); end",
)
TRIGGERS = "".join(f"{s};\n" for s in TRIGGER_STATEMENTS)
SCHEMA = f"""
create table if not exists users (
    username text primary key,
    role text not null,
    password_hash text not null,
    disabled integer not null default 0,
    created_at text not null,
    journal_hash text,
    hash text
);
{INBOX_TABLE}
{TRIGGERS}
create table if not exists sessions (
    token_sha text primary key,
    username text not null,
    created_at text not null,
    expires_at text not null,
    ended_at text
);
create table if not exists signin_attempts (
    id integer primary key autoincrement,
    at text not null,
    username text not null,
    client text not null,
    ok integer not null
);
create index if not exists signin_by_user on signin_attempts (username, at);
create index if not exists signin_by_client on signin_attempts (client, at);
create table if not exists signin_locks (
    subject text not null,
    locked_at text not null,
    until text not null
);
"""


_INITIALISED: set[str] = set()


def store_path(home: Path | str | None) -> Path:
    return HomePaths.at(home).root / STORE_NAME


def now_utc() -> str:
    """ISO 8601 UTC with microseconds and a zone (the contract's timestamp format)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (then tighten it to 0600)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
    else:
        os.close(fd)


def audit_key(home: Path | str | None) -> bytes:
    """The chain's HMAC key, created (0600) on first use."""
    path = HomePaths.at(home).root / KEY_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_hex(32).encode())
    return path.read_bytes()


def digest(key: bytes, prev_hash: str, fields: dict) -> str:
    """HMAC-SHA256 over the previous hash and the record's fields (canonical JSON)."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, f"{prev_hash}\n{body}".encode(), hashlib.sha256).hexdigest()


def entry_hash(key: bytes, row: dict) -> str:
    return digest(key, row["prev_hash"] or GENESIS, {c: row.get(c) for c in CHAINED})


def user_hash(key: bytes, row: dict) -> str:
    return digest(key, row["journal_hash"] or GENESIS, {c: row.get(c) for c in USER_CHAINED})


def _home_of(con: sqlite3.Connection) -> Path:
    return Path(con.execute("pragma database_list").fetchone()[2]).parent


def append(con: sqlite3.Connection, **fields) -> dict | None:
    """Append one inbox entry chained to the last one (inside a write transaction).
    Returns the row, or None when (submission_id, entry) is already there."""
    sid, entry = fields["submission_id"], fields["entry"]
    if con.execute(
        "select 1 from inbox where submission_id = ? and entry = ?", [sid, entry]
    ).fetchone():
        return None
    last = con.execute("select seq, hash from inbox order by seq desc limit 1").fetchone()
    seq_row = con.execute("select seq from sqlite_sequence where name = 'inbox'").fetchone()
    seq = max(last["seq"] if last else 0, seq_row["seq"] if seq_row else 0) + 1
    row = (
        dict.fromkeys(CHAINED) | fields | {"seq": seq, "prev_hash": last["hash"] if last else None}
    )
    row["hash"] = entry_hash(audit_key(_home_of(con)), row)
    cols = [*CHAINED, "hash"]
    con.execute(
        f"insert into inbox ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )
    return row


def set_user(con: sqlite3.Connection, user: dict, journal: dict) -> None:
    """Write a users row carrying the hash of the journal entry `journal` that set it."""
    row = {c: user[c] for c in USER_CHAINED if c != "journal_hash"} | {
        "journal_hash": journal["hash"]
    }
    row["hash"] = user_hash(audit_key(_home_of(con)), row)
    cols = [*USER_CHAINED, "hash"]
    con.execute(
        f"insert or replace into users ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def _migrate(con: sqlite3.Connection) -> None:
    """Bring a store written before the hash chain (or with fewer entry kinds) up to
    date: the inbox is rebuilt in seq order with its chain, users get their hashes."""
    cols = {r["name"] for r in con.execute("pragma table_info(inbox)")}
    sql = con.execute("select sql from sqlite_master where name = 'inbox'").fetchone()
    if "hash" in cols and all(f"'{e}'" in sql["sql"] for e in ENTRIES):
        return
    key = audit_key(_home_of(con))
    con.execute("begin immediate")
    try:
        old = [dict(r) for r in con.execute("select * from inbox order by seq")]
        for sql in (  # one statement each: executescript would commit the transaction
            "drop trigger if exists inbox_no_update",
            "drop trigger if exists inbox_no_delete",
            "drop index if exists inbox_by_submission",
            "alter table inbox rename to inbox_old",
        ):
            con.execute(sql)
        con.execute(INBOX_TABLE)
        prev = None
        for r in old:
            row = dict.fromkeys(CHAINED) | {c: r.get(c) for c in CHAINED} | {"prev_hash": prev}
            row["hash"] = prev = entry_hash(key, row)
            names = [*CHAINED, "hash"]
            con.execute(
                f"insert into inbox ({', '.join(names)}) values ({', '.join('?' * len(names))})",
                [row[c] for c in names],
            )
        con.execute("drop table inbox_old")
        ucols = {r["name"] for r in con.execute("pragma table_info(users)")}
        for col in ("journal_hash", "hash"):
            if col not in ucols:
                con.execute(f"alter table users add column {col} text")
        for u in [dict(r) for r in con.execute("select * from users")]:
            last = con.execute(
                "select hash from inbox where submission_id = ? order by seq desc limit 1",
                [f"user:{u['username']}"],
            ).fetchone()
            u["journal_hash"] = last["hash"] if last else None
            con.execute(
                "update users set journal_hash = ?, hash = ? where username = ?",
                [u["journal_hash"], user_hash(key, u), u["username"]],
            )
        for sql in TRIGGER_STATEMENTS:
            con.execute(sql)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


@contextmanager
def connect(home: Path | str | None) -> Iterator[sqlite3.Connection]:
    path = store_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    if str(path) not in _INITIALISED:
        _private_file(path)  # SQLite gives its -wal and -shm files the database's mode
    con = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    try:
        con.row_factory = sqlite3.Row
        con.execute("pragma busy_timeout = 60000")
        con.execute("pragma synchronous = full")
        if str(path) not in _INITIALISED:
            con.execute("pragma journal_mode = wal")  # persistent: once per file
            con.executescript(SCHEMA)
            _migrate(con)
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
