"""Governed ingest: landing files -> raw.duckdb, validated, de-duplicated, quarantined.

Guarantees (see docs of each module for the how):
- every row read is loaded, counted as a duplicate, or quarantined with a reason:
  rows_read = loaded + duplicates + quarantined, per file, asserted before commit;
- the new files of a source are read into one staging table (text files in one
  multi-file scan), validated and de-duplicated together (a few statements per
  source, not per file; duplicates decided as if the files were loaded one
  after the other in path order) and written in ONE DuckDB transaction (raw
  rows + quarantine rows + file records), so a crash leaves every file wholly
  loaded or not at all (a batch holds up to BATCH_BYTES of input; a larger
  delivery is loaded in several batches, each one transaction);
- master files of one run are validated together, so a master row may refer to
  a key defined in another master file of the same run;
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

from opsledger.core.environment import INGEST_SLEEP_IN_TX_ENV, environment
from opsledger.core.errors import Busy
from opsledger.core.paths import HomePaths
from opsledger.ingest import loader, validation
from opsledger.ingest.files import LandingFile, content_hash, discover
from opsledger.ingest.readers import (
    FileUnreadable,
    ReadResult,
    create_stage,
    line_readable,
    stage_file,
    stage_line_files,
)
from opsledger.ingest.schema import ensure_schema
from opsledger.models.domain import Domain, load_domain

Progress = Callable[[str, int, int], None]
# test hook: seconds to sleep inside a file's transaction (to kill -9 it there)
SLEEP_IN_TX_ENV = INGEST_SLEEP_IN_TX_ENV


class IngestBusy(Busy):
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


# a source's new files are read, validated and loaded together, in batches of
# up to this many bytes of input (gzip counted at 8x); DuckDB spills to disk
# beyond its memory limit, this bounds the spill and one transaction's size
BATCH_BYTES = 256 << 20
GZIP_FACTOR = 8


@dataclass
class _Staged:
    """A file of the current batch (read is None: recorded without reading)."""

    file: LandingFile
    digest: str
    status: str
    message: str | None
    seconds: float
    read: ReadResult | None = None
    ordinal: int = -1  # position among the batch's read files
    lines: bool = False  # read in the batch's multi-file scan (at flush)


class _Run:
    def __init__(self, con: duckdb.DuckDBPyConnection, domain: Domain, paths: HomePaths):
        self.con = con
        self.domain = domain
        self.paths = paths
        # one load time for the whole batch, every source: incremental models
        # take what was loaded after their watermark (the latest ingested_at they
        # hold), and per-source times would make a source loaded later in the
        # same batch look new to a model that holds only other sources
        self.ingested_at = datetime.now(UTC)
        self.batch_id = f"{self.ingested_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
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
        # the current batch: files of one source, in path order
        self.pending: list[_Staged] = []
        self.stage_source: str | None = None  # source of the rows in `_stage`
        self.stage_bytes = 0
        self.stage_files = 0

    # -- one file: staged into the current batch ------------------------------------
    def process(self, file: LandingFile) -> None:
        if (file.rel, file.size, file.mtime_ns) in self.seen_paths:
            self.summary.files_skipped += 1
            return
        started = time.perf_counter()
        digest = content_hash(file.path)
        if digest in self.known_hashes:
            self.summary.files_skipped += 1
            message = f"same content as {self.known_hashes[digest]}"
            self._record_only(file, digest, "skipped", message, started)
            return
        self.known_hashes[digest] = file.rel
        if file.problem:
            self._record_only(file, digest, "rejected", file.problem, started)
            return
        if file.size == 0:
            self._record_only(file, digest, "empty", "empty file (0 bytes), no rows", started)
            return
        if self.stage_source != file.source or self.stage_bytes >= BATCH_BYTES:
            self.flush()
            create_stage(self.con, self.domain.source_fields(file.source))
            self.stage_source = file.source
        ordinal = self.stage_files
        self.stage_files += 1
        self.stage_bytes += file.size * (GZIP_FACTOR if file.gzip else 1)
        if line_readable(file):
            seconds = time.perf_counter() - started
            self.pending.append(
                _Staged(file, digest, "loaded", None, seconds, ordinal=ordinal, lines=True)
            )
            return
        try:
            read = stage_file(self.con, file, self.domain, self.paths.root / ".ingest_tmp", ordinal)
        except FileUnreadable as exc:
            self.con.execute("DELETE FROM _stage WHERE _file = ?", [file.rel])
            self._record_only(file, digest, "rejected", str(exc), started)
            return
        seconds = time.perf_counter() - started
        self.pending.append(_Staged(file, digest, read.status, None, seconds, read, ordinal))

    def _record_only(self, file, digest, status, message, started) -> None:
        seconds = time.perf_counter() - started
        self.pending.append(_Staged(file, digest, status, message, seconds))

    # -- the batch: validated, then written in ONE transaction ------------------------
    def flush(self) -> None:
        """Validate and load the pending files (one source) in one transaction.

        Every file of the batch is wholly loaded or not at all, so a crash leaves
        each file either fully in raw (with its ingest_files record) or absent.
        """
        pending, self.pending = self.pending, []
        source, self.stage_source = self.stage_source, None
        self.stage_bytes = self.stage_files = 0
        if not pending:
            return
        con = self.con
        now = self.ingested_at
        started = time.perf_counter()
        lines = [p for p in pending if p.lines]
        reads = stage_line_files(con, [(p.file, p.ordinal) for p in lines], self.domain)
        for p, read in zip(lines, reads, strict=True):
            p.read = read
            p.status = read.status
        staged = [p for p in pending if p.read is not None]
        got: dict[str, dict[str, int]] = {}
        if staged:
            assert source is not None
            by_rel = {p.file.rel: p.read for p in staged}
            for rel, n in con.execute("SELECT _file, count(*) FROM _stage GROUP BY 1").fetchall():
                by_rel[rel].rows = int(n)
            validation.check(con, self.domain, source, now)
            validation.classify(con, self.domain, source, self.refs_ready)
            self.refs_ready = source != "master"
            # `_classified` holds all that is written: free the staged rows now
            con.execute("DROP VIEW IF EXISTS _checked; DROP TABLE IF EXISTS _stage")
            got = loader.counts(con)
        rows: list[dict] = []
        want = {"loaded": 0, "quarantined": 0}
        for p in pending:
            if p.read is None:
                rows.append(self._row(p, now, p.status, 0, 0, 0, 0, [p.message or ""]))
                continue
            if p.read.status == "changed":
                # a writer is still appending: nothing of it now, all of it next time
                self.summary.files_skipped += 1
                continue
            read = p.read
            n = got.get(p.file.rel, {"loaded": 0, "duplicate": 0, "quarantined": 0})
            tail = 1 if read.tail else 0
            if read.rows != sum(n.values()):
                raise ReconciliationError(
                    f"{p.file.rel}: staged {read.rows} rows, classified {sum(n.values())}"
                )
            rows_read = read.rows + tail
            status = read.status
            messages = list(read.messages)
            if rows_read == 0:
                status = "empty"
                messages.insert(0, "header only, no data rows" if read.header else "no rows")
            quarantined = n["quarantined"] + tail
            if rows_read != n["loaded"] + n["duplicate"] + quarantined:
                raise ReconciliationError(f"{p.file.rel}: counts do not reconcile: {n}")
            want["loaded"] += n["loaded"]
            want["quarantined"] += quarantined
            rows.append(
                self._row(
                    p, now, status, rows_read, n["loaded"], n["duplicate"], quarantined, messages
                )
            )
        con.execute("BEGIN TRANSACTION")
        try:
            loaded = held = 0
            if staged:
                assert source is not None
                loaded = loader.insert_events(con, self.domain, source, self.batch_id, now)
                held = loader.insert_quarantine(con, self.domain, source, self.batch_id, now)
                for p in staged:
                    if p.read is not None and p.read.tail:
                        line, text = p.read.tail
                        loader.insert_tail(con, source, self.batch_id, p.file.rel, line, text, now)
                        held += 1
            # reconciliation, on what was actually written
            if (loaded, held) != (want["loaded"], want["quarantined"]):
                raise ReconciliationError(
                    f"{source}: wrote {loaded} rows and {held} quarantine rows, "
                    f"expected {want['loaded']} and {want['quarantined']}"
                )
            # the batch's validation and load time is shared out by rows read
            batch_seconds = time.perf_counter() - started
            total = sum(r["rows_read"] for r in rows) or 1
            for r in rows:
                r["seconds"] = round(r["seconds"] + batch_seconds * r["rows_read"] / total, 3)
            loader.record_files(con, rows)
            if delay := environment().ingest_sleep_in_tx:
                for p in staged:
                    print(f"in-transaction {p.file.rel}", file=sys.stderr, flush=True)
                time.sleep(delay)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        for r in rows:
            if r["status"] != "skipped":
                self._tally(r)
        if staged:
            validation.drop_work(con)

    def _row(self, p: _Staged, now, status, rows_read, loaded, dups, quarantined, messages):
        return {
            "content_hash": p.digest,
            "path": p.file.rel,
            "source": p.file.source or None,
            "size": p.file.size,
            "mtime_ns": p.file.mtime_ns,
            "status": status,
            "rows_read": rows_read,
            "loaded": loaded,
            "duplicates": dups,
            "quarantined": quarantined,
            "batch_id": self.batch_id,
            "ingested_at": now,
            "seconds": p.seconds,
            "message": "; ".join(m for m in messages if m) or None,
            # arrival: the file's mtime (when the sender wrote it), never later than
            # the first ingest that saw it (a copy may carry a future or odd mtime)
            "arrived_at": min(datetime.fromtimestamp(p.file.mtime_ns / 1e9, tz=UTC), now),
        }

    def _tally(self, r: dict) -> None:
        s = self.summary
        s.files += 1
        s.rows_read += r["rows_read"]
        s.loaded += r["loaded"]
        s.duplicates += r["duplicates"]
        s.quarantined += r["quarantined"]
        s.per_file.append(
            {
                "path": r["path"],
                "source": r["source"] or "",
                "status": r["status"],
                "rows_read": r["rows_read"],
                "loaded": r["loaded"],
                "duplicates": r["duplicates"],
                "quarantined": r["quarantined"],
                "seconds": r["seconds"],
                "message": r["message"],
            }
        )

    # -- held rows -------------------------------------------------------------------
    def release(self, sources: list[str] | None = None) -> None:
        for source in loader.held_sources(self.con):
            if sources is not None and source not in sources:
                continue
            if loader.stage_held(self.con, self.domain, source) == 0:
                continue
            now = self.ingested_at
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
            # this run holds the lock: a batch still 'running' belongs to a process
            # that was killed (its files' transactions rolled back)
            con.execute(
                "UPDATE raw.ingest_batches SET status = 'killed', finished_at = ?, message = "
                "'the ingest process ended before it finished (killed); its unfinished "
                "files were not loaded and are read again' WHERE status = 'running'",
                [datetime.now(UTC)],
            )
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
                    # the master batch is loaded, and master rows held by earlier
                    # runs are released, before the other sources are checked
                    # against master data
                    if file.source == "master" and (
                        i + 1 == len(files) or files[i + 1].source != "master"
                    ):
                        run.flush()
                        run.release(sources=["master"])
                run.flush()
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
