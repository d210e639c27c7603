"""What is published, when, from how many events, and the last gate's results."""

from __future__ import annotations

import json
from pathlib import Path

from opsledger.core.paths import HomePaths
from opsledger.core.publications import recorded_columns
from opsledger.core.readonly import connect_read_only


def read_status(home: Path | str | None) -> dict:
    paths = HomePaths.at(home)
    status: dict = {"home": str(paths.root), "published": None, "last_refresh": None}
    last = paths.root / "last_refresh.json"
    if last.exists():
        data = json.loads(last.read_text(encoding="utf-8"))
        status["last_refresh"] = {
            k: data.get(k)
            for k in (
                "build_id",
                "status",
                "published",
                "current",
                "message",
                "timings",
                "failed_build",
                "stage",
                "started_at",
                "finished_at",
                "audit",
                "audit_reason",
                "last_full_audit_at",
            )
        }
        # records from before unchanged refreshes: a refresh was current when it published
        status["last_refresh"]["current"] = bool(data.get("current", data.get("published")))
        status["last_refresh"]["gate_failures"] = len(data.get("gate_failures", []))
        status["last_refresh"]["gate_warnings"] = len(data.get("gate_warnings", []))
        status["last_refresh"]["failing"] = [
            f"{r.get('suite')}.{r.get('expectation')}" for r in data.get("gate_failures", [])
        ] + [f"dbt {r.get('name')}: {r.get('status')}" for r in data.get("dbt_failures", [])]
        # the first failures with the rows they name, for the banner and the CLI
        status["last_refresh"]["first_failures"] = [
            {
                "check": f"dbt {r.get('name')}",
                "message": r.get("message"),
                "rows": r.get("rows", []),
                # every failing row, in the kept build (store_failures)
                "failures_table": r.get("failures_table"),
            }
            for r in data.get("dbt_failures", [])[:5]
        ] + [
            {
                "check": f"gate {r.get('suite')}.{r.get('expectation')}",
                "message": r.get("observed_value"),
                "rows": [],
            }
            for r in data.get("gate_failures", [])[:5]
        ]
    if not paths.warehouse.exists():
        return status
    con = connect_read_only(paths.warehouse)
    try:
        # a publication recorded before the audit kinds has neither column (issue 21)
        # and one before the engines (issue 22) no engine: DuckDB built it
        recorded = recorded_columns(con)
        audit_columns = "audit, last_full_audit_at" if "audit" in recorded else "null, null"
        engine_column = "engine" if "engine" in recorded else "null"
        row = con.execute(
            "select build_id, published_at, events_total, raw_rows, dbt_passed, dbt_warned,"
            f" dbt_failed, gate_success, gate_warnings, {audit_columns}, {engine_column}"
            " from ops.publications order by published_at desc limit 1"
        ).fetchone()
        if row is None:
            return status
        keys = (
            "build_id",
            "published_at",
            "events_total",
            "raw_rows",
            "dbt_tests_passed",
            "dbt_tests_warned",
            "dbt_tests_failed",
            "gate_success",
            "gate_warnings",
            "audit",  # full | build: every row, or what the build wrote (issue 21)
            "last_full_audit_at",
            "engine",  # duckdb | spark: what built it (issue 22)
        )
        published = dict(zip(keys, row, strict=True))
        published["engine"] = published["engine"] or "duckdb"
        if published["last_full_audit_at"] is not None:
            published["last_full_audit_at"] = str(published["last_full_audit_at"])
        published["raw_rows"] = json.loads(published["raw_rows"])
        published["published_at"] = str(published["published_at"])
        gate = con.execute(
            "select suite, expectation, severity, success from ops.gate_results"
            " where run_id = ? order by suite, expectation",
            [published["build_id"]],
        ).fetchall()
        published["gate"] = {
            "expectations": len(gate),
            "failed": [f"{s}.{e} ({sev})" for s, e, sev, ok in gate if not ok],
        }
        published["warehouse"] = str(paths.warehouse)
        status["published"] = published
        last_refresh = status["last_refresh"]
        if last_refresh and not last_refresh.get("current"):
            # what readers see instead of the failed refresh
            last_refresh["showing_instead"] = published["build_id"]
    finally:
        con.close()
    return status
