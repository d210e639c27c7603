"""Governed ingest: landing files -> raw.duckdb, validated, de-duplicated, quarantined.

Guarantees (see docs of each module for the how):
- every row read is loaded, counted as a duplicate, or quarantined with a reason:
  rows_read = loaded + duplicates + quarantined, per file, asserted before commit;
- one file = one DuckDB transaction (raw rows + quarantine rows + file record),
  so a crash leaves a file wholly loaded or not at all;
- a file whose content was ingested before (even under another name) is skipped;
- rows referring to master data that has not arrived yet are held in quarantine
  (retryable) and released by a later ingest once it exists;
- one ingest at a time (an exclusive lock file).
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest import loader, validation
from ingest.files import LandingFile, content_hash, discover
from ingest.readers import FileUnreadable, stage_file
from ingest.schema import ensure_schema
from models.domain import Domain, load_domain
from opsledger.paths import HomePaths

Progress = Callable[[str, int, int], None]
# test hook: seconds to sleep inside a file's transaction (to kill -9 it there)
SLEEP_IN_TX_ENV = "OPSLEDGER_INGEST_SLEEP_IN_TX"


class IngestBusy(RuntimeError):
    """Another ingest holds the lock on this home."""


class ReconciliationError(RuntimeError):
    """rows_read != loaded + duplicates + quarantined: nothing is committed."""


@dataclass
class IngestSummary:
    files: int = 0  # files read in this run (loaded, empty or rejected)
    files_skipped: int = 0  # already ingested (same path or same content)
    rows_read: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    released: int = 0  # held rows released from quarantine in this run
    seconds: float = 0.0
    per_file: list[dict] = field(default_factory=list)
    batch_id: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@contextmanager
def ingest_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestBusy(f"another ingest is running on this home ({path})") from exc
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def connect(paths: HomePaths, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    # raw.duckdb would be catalog "raw" and clash with schema "raw": attach it
    # under another name so `raw.<table>` always means the schema
    con = duckdb.connect()
    db = str(paths.raw_db).replace("'", "''")
    con.execute(f"ATTACH '{db}' AS ingest_raw")
    con.execute("USE ingest_raw")
    scratch = paths.root / ".ingest_tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    # bounded memory: DuckDB spills to disk beyond the limit
    con.execute(f"SET memory_limit = '{_size(memory_limit)}'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET temp_directory = ?", [str(scratch / "duckdb")])
    con.execute("SET preserve_insertion_order = true")  # line numbering relies on it
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def _size(value: str) -> str:
    cleaned = value.strip().upper().replace(" ", "")
    if not cleaned[:1].isdigit() or not cleaned.rstrip("KMGTIB").replace(".", "").isdigit():
        raise ValueError(f"invalid memory limit {value!r}")
    return cleaned


class _Run:
    def __init__(self, con: duckdb.DuckDBPyConnection, domain: Domain, paths: HomePaths):
        self.con = con
        self.domain = domain
        self.paths = paths
        self.batch_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.summary = IngestSummary(batch_id=self.batch_id)
        self.refs_ready = False  # master keys in _ref_* tables are current
        rows = con.execute(
            "SELECT path, size, mtime_ns, content_hash, status FROM raw.ingest_files"
        )
        self.seen_paths = {(p, s, m) for p, s, m, _, _ in rows.fetchall()}
        self.known_hashes: dict[str, str] = {
            h: p
            for h, p in con.execute(
                "SELECT content_hash, any_value(path) FROM raw.ingest_files "
                "WHERE status <> 'skipped' GROUP BY content_hash"
            ).fetchall()
        }

    # -- one file ------------------------------------------------------------------
    def process(self, file: LandingFile) -> None:
        if (file.rel, file.size, file.mtime_ns) in self.seen_paths:
            self.summary.files_skipped += 1
            return
        started = time.perf_counter()
        digest = content_hash(file.path)
        if digest in self.known_hashes:
            self.summary.files_skipped += 1
            self._record_only(
                file, digest, "skipped", f"same content as {self.known_hashes[digest]}", started
            )
            return
        self.known_hashes[digest] = file.rel
        if file.problem:
            self._record_only(file, digest, "rejected", file.problem, started)
            return
        if file.size == 0:
            self._record_only(file, digest, "empty", "empty file (0 bytes), no rows", started)
            return
        try:
            read = stage_file(self.con, file, self.domain, self.paths.root / ".ingest_tmp")
        except FileUnreadable as exc:
            self._record_only(file, digest, "rejected", str(exc), started)
            return
        now = datetime.now(UTC)
        validation.check(self.con, self.domain, file.source, now)
        validation.classify(self.con, self.domain, file.source, self.refs_ready)
        self.refs_ready = file.source != "master"
        got = loader.counts(self.con)
        tail = 1 if read.tail else 0
        rows_read = sum(got.values()) + tail
        status = read.status
        messages = list(read.messages)
        if rows_read == 0:
            status = "empty"
            messages.insert(0, "header only, no data rows" if read.header else "no rows")
        self._load(file, digest, now, got, tail, rows_read, status, messages, read.tail, started)

    def _load(self, file, digest, now, got, tail, rows_read, status, messages, tail_row, started):
        con = self.con
        quarantined = got["quarantined"] + tail
        if rows_read != got["loaded"] + got["duplicate"] + quarantined:
            raise ReconciliationError(f"{file.rel}: counts do not reconcile: {got}, tail={tail}")
        con.execute("BEGIN TRANSACTION")
        try:
            loaded = loader.insert_events(
                con, self.domain, file.source, self.batch_id, now, file=file.rel
            )
            held = loader.insert_quarantine(
                con, self.domain, file.source, self.batch_id, file.rel, now
            )
            if tail_row:
                loader.insert_tail(con, file.source, self.batch_id, file.rel, *tail_row, now)
            # reconciliation, on what was actually written
            if (loaded, held + tail) != (got["loaded"], quarantined):
                raise ReconciliationError(
                    f"{file.rel}: wrote {loaded} rows and {held + tail} quarantine rows, "
                    f"expected {got['loaded']} and {quarantined}"
                )
            seconds = time.perf_counter() - started
            loader.record_file(
                con,
                content_hash=digest,
                path=file.rel,
                source=file.source,
                size=file.size,
                mtime_ns=file.mtime_ns,
                status=status,
                rows_read=rows_read,
                loaded=loaded,
                duplicates=got["duplicate"],
                quarantined=quarantined,
                batch_id=self.batch_id,
                ingested_at=now,
                seconds=seconds,
                message="; ".join(messages) or None,
            )
            if delay := float(os.environ.get(SLEEP_IN_TX_ENV, "0") or 0):
                print(f"in-transaction {file.rel}", file=sys.stderr, flush=True)
                time.sleep(delay)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self._tally(
            file, status, rows_read, loaded, got["duplicate"], quarantined, messages, seconds
        )

    def _record_only(self, file, digest, status, message, started) -> None:
        now = datetime.now(UTC)
        seconds = time.perf_counter() - started
        loader.record_file(
            self.con,
            content_hash=digest,
            path=file.rel,
            source=file.source or None,
            size=file.size,
            mtime_ns=file.mtime_ns,
            status=status,
            rows_read=0,
            loaded=0,
            duplicates=0,
            quarantined=0,
            batch_id=self.batch_id,
            ingested_at=now,
            seconds=seconds,
            message=message,
        )
        if status != "skipped":
            self._tally(file, status, 0, 0, 0, 0, [message], seconds)

    def _tally(self, file, status, rows_read, loaded, dups, quarantined, messages, seconds):
        s = self.summary
        s.files += 1
        s.rows_read += rows_read
        s.loaded += loaded
        s.duplicates += dups
        s.quarantined += quarantined
        s.per_file.append(
            {
                "path": file.rel,
                "source": file.source,
                "status": status,
                "rows_read": rows_read,
                "loaded": loaded,
                "duplicates": dups,
                "quarantined": quarantined,
                "seconds": round(seconds, 3),
                "message": "; ".join(messages) or None,
            }
        )

    # -- held rows -------------------------------------------------------------------
    def release(self, sources: list[str] | None = None) -> None:
        for source in loader.held_sources(self.con):
            if sources is not None and source not in sources:
                continue
            if loader.stage_held(self.con, self.domain, source) == 0:
                continue
            now = datetime.now(UTC)
            validation.check(self.con, self.domain, source, now)
            validation.classify(self.con, self.domain, source, self.refs_ready)
            self.refs_ready = source != "master"
            self.con.execute("BEGIN TRANSACTION")
            try:
                loaded, dups = loader.apply_release(
                    self.con, self.domain, source, self.batch_id, now
                )
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.summary.released += loaded + dups


def run_ingest(
    home: Path,
    progress: Progress | None = None,
    memory_limit: str = "2GB",
    threads: int = 2,
) -> IngestSummary:
    """Load new landing files of `home` into `<home>/raw.duckdb` (schema raw)."""
    started = time.perf_counter()
    paths = HomePaths.at(home).ensure()
    domain = load_domain()
    with ingest_lock(paths.ingest_lock):
        con = connect(paths, memory_limit, threads)
        try:
            ensure_schema(con, domain)
            validation.setup_rules(con, domain)
            run = _Run(con, domain, paths)
            con.execute(
                "INSERT INTO raw.ingest_batches (batch_id, started_at, status) "
                "VALUES (?, ?, 'running')",
                [run.batch_id, datetime.now(UTC)],
            )
            files = discover(paths.landing, domain)
            total = len(files) + 1
            status, message = "failed", None
            try:
                for i, file in enumerate(files):
                    if progress:
                        progress(f"ingest {file.rel}", i, total)
                    run.process(file)
                    # master rows held for a master file later in this run (e.g.
                    # products before suppliers) are released before the other
                    # sources are checked against master data
                    if file.source == "master" and (
                        i + 1 == len(files) or files[i + 1].source != "master"
                    ):
                        run.release(sources=["master"])
                if progress:
                    progress("release held rows", len(files), total)
                run.release()
                status = "done"
                if progress:
                    progress("done", total, total)
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                s = run.summary
                s.seconds = round(time.perf_counter() - started, 3)
                con.execute(
                    "UPDATE raw.ingest_batches SET finished_at = ?, status = ?, files = ?, "
                    "files_skipped = ?, rows_read = ?, loaded = ?, duplicates = ?, "
                    "quarantined = ?, released = ?, message = ? WHERE batch_id = ?",
                    [
                        datetime.now(UTC),
                        status,
                        s.files,
                        s.files_skipped,
                        s.rows_read,
                        s.loaded,
                        s.duplicates,
                        s.quarantined,
                        s.released,
                        message,
                        run.batch_id,
                    ],
                )
            return run.summary
        finally:
            con.close()
