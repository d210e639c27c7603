"""The quality gate the refresh pipeline calls between `dbt build` and publish.

    gate = run_gate(build_db, docs_dir, run_id)   # read-only on build_db
    write_results(con, gate)                       # appends to ops.gate_results

`run_gate` opens the build database read-only, computes one bounded pandas frame per
suite (expectations.frames), closes it, then builds the suites of
expectations.definitions in an ephemeral GX context (in memory: nothing GX
generates is committed or left behind), validates each frame with its suite's
checkpoint and renders Data Docs into `docs_dir` with every asset local
(expectations.data_docs).
A failed ``error`` expectation makes the gate fail; a failed ``warning`` is counted
and reported but does not block publication. A mart a suite needs that is missing,
or a frame query that fails, is reported as a failed ``error`` result (never a crash).

Great Expectations is imported lazily here (it takes seconds to import).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from opsledger.expectations.definitions import (
    BATCH_DEFINITION,
    DATASOURCE,
    ERROR,
    GX_SEVERITY,
    WARNING,
    Suite,
    suites,
)

DOCS_SITE = "opsledger"

RESULT_COLUMNS = (
    ("run_id", "varchar"),
    ("suite", "varchar"),
    ("expectation", "varchar"),
    ("expectation_type", "varchar"),
    ("column_name", "varchar"),
    ("severity", "varchar"),
    ("success", "boolean"),
    ("observed_value", "varchar"),
    ("evaluated_at", "timestamp"),
)


@dataclass
class GateResult:
    success: bool
    warnings: int
    results: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    docs_index: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["success"] and r["severity"] == ERROR]


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _clean(value: Any) -> Any:
    """JSON-safe observed values: NaN/inf become null."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _to_json(value: Any) -> str:
    return json.dumps(_clean(value), default=_json_default, sort_keys=True)


def _record(
    run_id: str,
    suite: str,
    expectation: str,
    severity: str,
    success: bool,
    observed: Any,
    column: str | None = None,
    expectation_type: str | None = None,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "suite": suite,
        "expectation": expectation,
        "expectation_type": expectation_type,
        "column": column,
        "severity": severity,
        "success": bool(success),
        "observed_value": _to_json(observed),
        "evaluated_at": _now(),
    }


def audited_suites(full_audit: bool = True) -> list[Suite]:
    """The suites an audit runs: all of them in a full audit; in a per-build one the
    landing suites (the newest batches' contracts), not the marts' distributions,
    which read whole tables."""
    if full_audit:
        return suites()
    return [s for s in suites() if s.frame in LANDING_FRAMES]


LANDING_FRAMES = ("landing_events", "landing_batches")


def _frames(
    build_db: Path, run_id: str, chosen: list[Suite] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Bounded frames per suite (default: every suite); problems become failed error
    results."""
    from opsledger.expectations.frames import build_frame, existing_tables

    frames: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        # never resolve a missing table to a Python variable of the same name
        con.execute("set python_enable_replacements = false")
        tables = existing_tables(con)
        for suite in suites() if chosen is None else chosen:
            missing = [t for t in suite.requires if t not in tables]
            if missing:
                message = f"missing table(s): {', '.join(missing)}"
                if suite.missing_is_error:
                    problems.append(
                        _record(run_id, suite.name, "required_tables", ERROR, False, message)
                    )
                else:
                    problems.append(
                        _record(
                            run_id,
                            suite.name,
                            "required_tables",
                            WARNING,
                            True,
                            f"skipped: {message}",
                        )
                    )
                continue
            try:
                frames[suite.name] = build_frame(con, suite)
            except (duckdb.Error, StopIteration, KeyError) as exc:
                problems.append(
                    _record(
                        run_id,
                        suite.name,
                        "frame_query",
                        ERROR,
                        False,
                        f"could not compute the frame: {type(exc).__name__}: {exc}",
                    )
                )
    finally:
        con.close()
    return frames, problems


@contextmanager
def _main_module_named() -> Iterator[None]:
    """Import GX with `__main__` named. With the spark extra installed, GX imports
    pyspark.sql.connect, whose import takes a main module without __spec__ or
    __file__ (`python -c`, an embedded interpreter) for pyspark's own doctest run
    and, lacking grpc, ends the process with status 0 (pyspark/sql/connect/utils.py):
    a refresh in such a process would stop silently before its audit. The name is
    removed once imported (a multiprocessing spawn would try to run it)."""
    main = sys.modules.get("__main__")
    unnamed = main is not None and getattr(main, "__spec__", None) is None
    unnamed = unnamed and not hasattr(main, "__file__")
    if unnamed:
        main.__file__ = "<string>"
    try:
        yield
    finally:
        if unnamed:
            del main.__file__


def _ephemeral_context(docs_dir: Path):
    """An in-memory GX context: stores in memory, analytics and progress bars off, one
    Data Docs site on the filesystem at docs_dir."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    with _main_module_named():
        import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars={"globally": False, "metric_calculations": False},
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.add_data_docs_site(
        DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def _result_format(suite: Suite) -> dict[str, Any]:
    fmt: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
    if suite.key_columns:
        fmt["unexpected_index_column_names"] = list(suite.key_columns)
    return fmt


def _checkpoint(context, datasource, suite: Suite):
    """The GX suite, validation definition and checkpoint of one of our suites."""
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    batch_definition = datasource.add_dataframe_asset(
        suite.name
    ).add_batch_definition_whole_dataframe(BATCH_DEFINITION)
    gx_suite = gx.ExpectationSuite(
        name=suite.name,
        meta={"description": suite.description, "requires": list(suite.requires)},
    )
    for check in suite.checks:
        gx_suite.add_expectation(
            get_expectation_impl(check.type)(
                **check.kwargs,
                meta=check.meta,
                severity=GX_SEVERITY[check.severity],
                description=check.description or None,
            )
        )
    gx_suite = context.suites.add(gx_suite)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=gx_suite)
    )
    return context.checkpoints.add(
        gx.Checkpoint(
            name=suite.name,
            validation_definitions=[validation],
            actions=[],
            result_format=_result_format(suite),
        )
    )


def _expectation_records(run_id: str, suite: Suite, checkpoint_result) -> list[dict[str, Any]]:
    records = []
    for validation in checkpoint_result.run_results.values():
        for er in validation.results:
            config = er.expectation_config
            meta = config.meta or {}
            severity = meta.get("severity", ERROR)
            observed: dict[str, Any] = dict(er.result or {})
            info = er.exception_info or {}
            success = bool(er.success)
            if info.get("raised_exception"):
                success = False
                severity = ERROR
                observed["exception"] = info.get("exception_message")
            records.append(
                _record(
                    run_id,
                    suite.name,
                    meta.get("name", config.type),
                    severity,
                    success,
                    observed,
                    column=config.kwargs.get("column"),
                    expectation_type=config.type,
                )
            )
    return records


def run_gate(build_db: Path, docs_dir: Path, run_id: str, full_audit: bool = True) -> GateResult:
    """Validate a build database; render Data Docs into docs_dir (replaced).
    full_audit=False: only the landing suites (audited_suites)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    docs_dir = Path(docs_dir)
    # the site is this run's alone: pages of an earlier run would be listed as current
    shutil.rmtree(docs_dir, ignore_errors=True)
    docs_dir.mkdir(parents=True)

    chosen = audited_suites(full_audit)
    frames, results = _frames(Path(build_db), run_id, chosen)
    timings["frames"] = round(time.perf_counter() - started, 3)

    mark = time.perf_counter()
    context = _ephemeral_context(docs_dir)
    datasource = context.data_sources.add_pandas(DATASOURCE)
    from great_expectations.core.run_identifier import RunIdentifier

    timings["gx_import"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()
    gx_run = RunIdentifier(run_name=run_id, run_time=datetime.now(UTC))
    for suite in chosen:
        if suite.name not in frames:
            continue
        try:
            outcome = _checkpoint(context, datasource, suite).run(
                batch_parameters={"dataframe": frames[suite.name]}, run_id=gx_run
            )
            results.extend(_expectation_records(run_id, suite, outcome))
        except Exception as exc:  # a GX failure must fail the gate, not crash the refresh
            results.append(
                _record(
                    run_id,
                    suite.name,
                    "checkpoint_run",
                    ERROR,
                    False,
                    f"{type(exc).__name__}: {exc}",
                )
            )
    timings["validate"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()
    docs_index = None
    try:
        from opsledger.expectations.data_docs import localize_site

        context.build_data_docs(site_names=[DOCS_SITE])
        localize_site(docs_dir)
        index = docs_dir / "index.html"
        docs_index = index if index.exists() else None
    except Exception as exc:  # docs are a by-product; report, don't block
        results.append(_record(run_id, "data_docs", "build_data_docs", WARNING, False, str(exc)))
    timings["data_docs"] = round(time.perf_counter() - mark, 3)

    failed = [r for r in results if not r["success"]]
    return GateResult(
        success=not any(r["severity"] == ERROR for r in failed),
        warnings=sum(r["severity"] != ERROR for r in failed),
        results=results,
        seconds=round(time.perf_counter() - started, 3),
        docs_index=docs_index,
        timings=timings,
    )


def write_results(con: duckdb.DuckDBPyConnection, result: GateResult) -> int:
    """Append the gate's results to ops.gate_results in a read-write connection."""
    con.execute("create schema if not exists ops")
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in RESULT_COLUMNS)
    con.execute(f"create table if not exists ops.gate_results ({columns})")
    rows = [
        (
            r["run_id"],
            r["suite"],
            r["expectation"],
            r.get("expectation_type"),
            r.get("column"),
            r["severity"],
            r["success"],
            r["observed_value"],
            r["evaluated_at"],
        )
        for r in result.results
    ]
    if rows:
        names = ", ".join(name for name, _ in RESULT_COLUMNS)
        marks = ", ".join("?" for _ in RESULT_COLUMNS)
        con.executemany(f"insert into ops.gate_results ({names}) values ({marks})", rows)
    return len(rows)
