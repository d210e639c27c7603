"""`opsledger refresh`: ingest -> build (copy) -> audit -> publish, or keep the last good one."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from opsledger.build import build_warehouse
from opsledger.core.environment import FAULT_AT_ENV, environment
from opsledger.core.errors import Busy
from opsledger.core.paths import HomePaths
from opsledger.core.publications import recorded_columns
from opsledger.docs_site import DBT_DOCS_DIR, generate_dbt_docs, stage_dbt_docs
from opsledger.publish import (
    clean_stale_builds,
    keep_failed,
    new_build_id,
    prepare_build_copy,
    publish,
)

PUBLICATIONS_DDL = """
create table if not exists ops.publications (
    build_id varchar primary key,
    published_at timestamp,
    events_total bigint,
    raw_rows json,
    dbt_passed integer,
    dbt_warned integer,
    dbt_failed integer,
    gate_success boolean,
    gate_warnings integer,
    timings json,
    audit varchar,
    last_full_audit_at timestamp,
    engine varchar
)
"""
# publications recorded before the audit kinds (issue 21): the same table, two columns more
PUBLICATIONS_MIGRATION = (
    "alter table ops.publications add column if not exists audit varchar",
    "alter table ops.publications add column if not exists last_full_audit_at timestamp",
    # and the engine that built it (issue 22)
    "alter table ops.publications add column if not exists engine varchar",
)
AUDIT_FULL = "full"  # every data test on every row, and every Great Expectations suite
AUDIT_BUILD = "build"  # what the build wrote (dbt/macros/build_audit.sql), the landing suites
ENGINES = ("duckdb", "spark")  # what builds the warehouse: DuckDB, or Apache Spark (spark_build)


FAULT_ENV = FAULT_AT_ENV


def fault_point(paths: HomePaths, stage: str) -> None:
    """Crash-test hook: with OPSLEDGER_FAULT_AT=<stage>, announce the stage in a marker
    file and stall, so a test can kill -9 the process exactly there."""
    if environment().fault_at == stage:
        (paths.root / f".fault-{stage}").write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(600)


@dataclass
class RefreshResult:
    build_id: str
    published: bool  # this refresh published a new warehouse
    status: str  # published | unchanged | gate_failed | build_failed | error
    ingest: dict = field(default_factory=dict)
    ingest_writeback: int = 0
    full_refresh: bool = False  # every incremental model rebuilt (new home or changed project)
    timings: dict[str, float] = field(default_factory=dict)
    dbt_failures: list[dict] = field(default_factory=list)
    dbt_warnings: list[dict] = field(default_factory=list)
    gate_failures: list[dict] = field(default_factory=list)
    gate_warnings: list[dict] = field(default_factory=list)
    failed_build: str | None = None
    audit: str = ""  # full | build: what the audit checked (AUDIT_FULL, AUDIT_BUILD)
    audit_reason: str = ""  # why a full audit: full_refresh | asked | failed_before | due | first
    last_full_audit_at: str | None = None  # the latest full audit, this one included
    engine: str = "duckdb"  # what built it (ENGINES)
    # the published warehouse holds everything ingested: published now, or unchanged
    # (nothing new since publication `current_build_id`: no build, opsledger.nothing_new)
    current: bool = False
    current_build_id: str | None = None
    message: str = ""
    stage: str = ""  # the stage reached: ingest | build | audit | docs | publish
    started_at: str = ""
    finished_at: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class RefreshBusy(Busy):
    """Another refresh holds this home's lock."""


@contextmanager
def refresh_lock(paths: HomePaths) -> Iterator[None]:
    paths.root.mkdir(parents=True, exist_ok=True)
    with (paths.root / ".refresh.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RefreshBusy(
                f"another refresh or build is running in this home ({paths.root})"
            ) from exc
        yield


def last_full_audit(build_db: Path) -> datetime | None:
    """When the publication this build continues (or an earlier one) was last audited
    in full; None when none was (or nothing was published yet)."""
    if not build_db.exists():
        return None
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        if "audit" not in recorded_columns(con):
            return None
        return con.execute(
            "select max(published_at) from ops.publications where audit = ?", [AUDIT_FULL]
        ).fetchone()[0]
    finally:
        con.close()


def _skip_unchanged(paths: HomePaths, result: RefreshResult) -> bool:
    """Record an unchanged refresh and say True when the publication is already what
    a build would publish (opsledger.nothing_new); the caller asks only when no full
    audit is asked or due (result.audit)."""
    from opsledger.nothing_new import check_current, clock_now

    started = time.perf_counter()
    verdict = check_current(paths, result.engine, clock_now())
    result.timings["check_current"] = round(time.perf_counter() - started, 3)
    if not verdict.current:
        return False
    result.status = "unchanged"
    result.current = True
    result.current_build_id = verdict.build_id
    until = (
        f"; every node's staleness holds until {verdict.judged_until:%Y-%m-%d %H:%M} UTC"
        if verdict.judged_until
        else ""
    )
    result.message = f"nothing new: publication {verdict.build_id} is current{until}"
    return True


def _audit_kind(
    asked: bool,
    every_hours: float,
    last_full: datetime | None,
    now: datetime,
    full_failed_before: bool = False,
) -> tuple[str, str]:
    """(audit, reason) of a refresh before it builds: a full audit when asked, when
    none was made yet, when the last refresh's full audit failed (what it found is
    still in the history a per-build audit would not read), or when the last is
    `every_hours` old (0: every refresh); a build that turns out to be a full refresh
    is audited in full whatever this says."""
    if asked:
        return AUDIT_FULL, "asked"
    if full_failed_before:
        return AUDIT_FULL, "failed_before"
    if last_full is None:
        return AUDIT_FULL, "first"
    if (now - last_full).total_seconds() >= every_hours * 3600:
        return AUDIT_FULL, "due"
    return AUDIT_BUILD, ""


def _full_audit_failed_last(paths: HomePaths) -> bool:
    """The last refresh ran a full audit and did not publish (build or gate failed)."""
    try:
        last = json.loads((paths.root / "last_refresh.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    failed = last.get("status") in ("build_failed", "gate_failed")
    return bool(failed and last.get("audit") == AUDIT_FULL)


def _record_publication(build_db: Path, result: RefreshResult, dbt_counts: dict) -> None:
    con = duckdb.connect(str(build_db))
    try:
        con.execute("create schema if not exists ops")
        con.execute(PUBLICATIONS_DDL)
        for statement in PUBLICATIONS_MIGRATION:
            con.execute(statement)
        published_at = datetime.now(UTC).replace(tzinfo=None)
        if result.audit == AUDIT_FULL:
            result.last_full_audit_at = published_at.isoformat(timespec="seconds")
        raw_counts = {
            table: con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for (table,) in con.execute(
                "select table_name from duckdb_tables() "
                "where schema_name = 'raw' and table_name like '%\\_events' escape '\\'"
            ).fetchall()
        }
        con.execute(
            "insert or replace into ops.publications (build_id, published_at, events_total,"
            " raw_rows, dbt_passed, dbt_warned, dbt_failed, gate_success, gate_warnings,"
            " timings, audit, last_full_audit_at, engine)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.build_id,
                published_at,
                sum(raw_counts.values()),
                json.dumps(raw_counts),
                dbt_counts["passed"],
                dbt_counts["warned"],
                dbt_counts["failed"],
                not result.gate_failures,
                len(result.gate_warnings),
                json.dumps(result.timings),
                result.audit,
                result.last_full_audit_at,
                result.engine,
            ],
        )
    finally:
        con.close()


FAILING_ROWS_SHOWN = 5


def name_failing_rows(build_db: Path, checks: list[dict]) -> None:
    """Attach the first failing rows of each failed or warned dbt test, so a failure
    says exactly which rows: read from the table dbt stored them in
    (`failures_table`, store_failures), else the test's compiled SQL run again, bounded."""
    checks = [c for c in checks if c.get("failures_table") or c.get("compiled_code")]
    if not checks or not build_db.exists():
        return
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        for check in checks:
            sql = check.pop("compiled_code", None)
            if check.get("failures_table"):
                schema, table = check["failures_table"].split(".", 1)
                sql = f'select * from "{schema}"."{table}"'
            try:
                cur = con.execute(f"select * from ({sql}) limit {FAILING_ROWS_SHOWN}")
                names = [d[0] for d in cur.description]
                check["rows"] = [
                    {
                        k: (v if isinstance(v, int | float | bool) or v is None else str(v))
                        for k, v in zip(names, row, strict=True)
                    }
                    for row in cur.fetchall()
                ]
            except duckdb.Error as exc:
                check["rows_error"] = str(exc)
    finally:
        con.close()


def _forget_unpublished_build(paths: HomePaths, result: RefreshResult) -> None:
    """Spark's tables continue in place (builds/spark), unlike DuckDB's private copy:
    when a Spark build is not published, the next one starts from scratch."""
    if result.engine == "spark":
        from opsledger.spark_build import discard_state

        discard_state(paths.root)


def _write_last_refresh(paths: HomePaths, result: RefreshResult) -> None:
    result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    target = paths.root / "last_refresh.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=2, default=str), encoding="utf-8")
    tmp.replace(target)


def run_refresh(
    home: Path | str | None,
    progress: Callable[[str], None] | None = None,
    memory_limit: str | None = None,
    full_audit: bool = False,
    engine: str = "duckdb",
    force: bool = False,
) -> RefreshResult:
    """A refresh; whatever happens, last_refresh.json says how it ended (the app's
    banner and `opsledger status` read it), also when a stage raised.

    engine: what builds the warehouse (ENGINES); `spark` builds on Apache Spark and
    publishes the same DuckDB file (opsledger.spark_build).

    memory_limit: DuckDB's limit for the build (default `[build] memory_limit`, 3GB).

    The audit is per build (the rows, keys and history a continued build wrote)
    unless it is full: asked (full_audit), a full refresh, the first publication,
    or the last full audit is `[audit] full_audit_every_hours` old (default 24).

    With nothing new since the publication (opsledger.nothing_new) and no full audit
    asked or due, it keeps the publication: status `unchanged`, no build; force=True
    builds anyway."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    paths = HomePaths.at(home).ensure()
    result = RefreshResult(build_id=new_build_id(), published=False, status="error", engine=engine)
    result.started_at = datetime.now(UTC).isoformat(timespec="seconds")
    say = progress or (lambda _stage: None)

    def stage(name: str) -> None:
        result.stage = name
        say(name)

    try:
        return _run_refresh(paths, result, stage, memory_limit, full_audit, force)
    except RefreshBusy:
        raise
    except Exception as exc:
        _forget_unpublished_build(paths, result)
        result.status = "error"
        result.message = f"{result.stage or 'refresh'} failed: {type(exc).__name__}: {exc}"
        _write_last_refresh(paths, result)
        raise


def _run_refresh(
    paths: HomePaths,
    result: RefreshResult,
    say: Callable[[str], None],
    memory_limit: str | None,
    full_audit: bool = False,
    force: bool = False,
) -> RefreshResult:
    from opsledger.core.settings import build_memory_limit, load_settings
    from opsledger.ingest.pipeline import run_ingest

    settings = load_settings(paths.root)
    every_hours = settings.full_audit_every_hours
    memory_limit = build_memory_limit(settings, memory_limit)

    build_id = result.build_id
    with refresh_lock(paths):
        clean_stale_builds(paths)
        full_failed_before = _full_audit_failed_last(paths)  # before this one overwrites it

        say("ingest")
        started = time.perf_counter()
        # the write-back inbox is a source like any other: approved submissions
        # (also those of a submitter that crashed) become landing files first
        from opsledger.writeback import export_pending

        result.ingest_writeback = len(export_pending(paths.root))
        fault_point(paths, "ingest")
        result.ingest = run_ingest(paths.root).to_dict()
        result.ingest.pop("per_file", None)
        result.timings["ingest"] = round(time.perf_counter() - started, 3)
        # the build continues the published file (a byte copy): its audit record decides
        last_full = last_full_audit(paths.warehouse)
        result.last_full_audit_at = last_full.isoformat(timespec="seconds") if last_full else None
        result.audit, result.audit_reason = _audit_kind(  # wall-clock time, as published_at
            full_audit,
            every_hours,
            last_full,
            datetime.now(UTC).replace(tzinfo=None),
            full_failed_before,
        )
        if not force and result.audit != AUDIT_FULL and _skip_unchanged(paths, result):
            result.audit = result.audit_reason = ""  # nothing was audited
            _write_last_refresh(paths, result)
            return result

        say("build")
        started = time.perf_counter()
        build_path = prepare_build_copy(paths)
        result.timings["copy"] = round(time.perf_counter() - started, 3)
        fault_point(paths, "build")
        builder = build_warehouse
        if result.engine == "spark":
            from opsledger.spark_build import build_on_spark as builder
        build = builder(
            paths.root,
            build_db=build_path,
            memory_limit=memory_limit,
            build_id=build_id,
            full_audit=result.audit == AUDIT_FULL,
        )
        result.timings.update(build.timings)
        result.full_refresh = build.full_refresh
        if build.full_refresh and result.audit != AUDIT_FULL:
            result.audit, result.audit_reason = AUDIT_FULL, "full_refresh"
        result.dbt_failures = build.dbt.failures
        result.dbt_warnings = build.dbt.warnings
        name_failing_rows(build_path, result.dbt_failures + result.dbt_warnings)
        tests_run = [r for r in build.dbt.results if "test" in r["resource_type"]]
        dbt_counts = {
            "passed": sum(r["status"] == "pass" for r in tests_run),
            "warned": len(result.dbt_warnings),
            "failed": len(result.dbt_failures),
        }
        if not build.success:
            result.status = "build_failed"
            result.message = build.dbt.error or f"{len(result.dbt_failures)} dbt nodes failed"
            result.failed_build = str(keep_failed(build_path, paths, build_id))
            _forget_unpublished_build(paths, result)
            _write_last_refresh(paths, result)
            return result

        say("audit")
        from opsledger.expectations.gate import run_gate, write_results

        started = time.perf_counter()
        fault_point(paths, "audit")
        # Data Docs beside the build: published with it (or kept with a failed one)
        gate = run_gate(
            build_path,
            docs_dir=build_path.parent / "gx_docs",
            run_id=build_id,
            full_audit=result.audit == AUDIT_FULL,
        )
        result.timings["audit"] = round(time.perf_counter() - started, 3)
        result.gate_failures = [
            r for r in gate.results if not r["success"] and r["severity"] == "error"
        ]
        result.gate_warnings = [
            r for r in gate.results if not r["success"] and r["severity"] != "error"
        ]
        con = duckdb.connect(str(build_path))
        try:
            write_results(con, gate)
        finally:
            con.close()
        if not gate.success:
            result.status = "gate_failed"
            result.message = f"{len(result.gate_failures)} expectations failed"
            result.failed_build = str(keep_failed(build_path, paths, build_id))
            _forget_unpublished_build(paths, result)
            _write_last_refresh(paths, result)
            return result

        say("docs")
        started = time.perf_counter()
        # on the build database: the catalog reads the tables about to be published
        docs = generate_dbt_docs(build_path, paths.builds / "dbt", memory_limit=memory_limit)
        if not docs.success:  # the data is good: publish it, keep the last site, say so
            result.message = f"dbt docs not generated: {docs.error or 'see the dbt log'}"
        else:  # beside the build, like the Data Docs: publish() swaps both in after it
            stage_dbt_docs(paths.builds / "dbt", build_path.parent / DBT_DOCS_DIR)
        result.timings["docs"] = round(time.perf_counter() - started, 3)

        say("publish")
        started = time.perf_counter()
        _record_publication(build_path, result, dbt_counts)
        fault_point(paths, "publish")
        publish(build_path, paths)
        result.timings["publish"] = round(time.perf_counter() - started, 3)
        result.published = result.current = True
        result.status = "published"
        if result.engine == "spark":
            from opsledger.spark_build import keep_state

            keep_state(paths.root, build_id)
        _write_last_refresh(paths, result)
    return result
