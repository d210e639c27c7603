"""Run the dbt project in-process (dbtRunner: ~0.4 s per call instead of ~3 s for the CLI)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from opsledger.core.environment import DBT_FILE_LOG_LEVEL_ENV, environment


def _project_dir() -> Path:
    """The dbt project: package data of an installed wheel (opsledger/dbt/), or the
    checkout's top-level dbt/ folder under an editable install."""
    installed = Path(str(files("opsledger"))) / "dbt"
    if (installed / "dbt_project.yml").is_file():
        return installed
    return Path(__file__).resolve().parent.parent / "dbt"


DBT_DIR = _project_dir()
# dbt's file log at info writes ~6 lines per node and costs ~3 s of a 17 s build of
# an empty warehouse; warnings and errors are what a failed build needs, and every
# node's status and timing is in target/run_results.json. Set "info" or "debug" to
# follow a build statement by statement.
FILE_LOG_LEVEL_ENV = DBT_FILE_LOG_LEVEL_ENV
# what the built tables depend on; target/, logs/ and packages are dbt's output
PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "tests")


def project_fingerprint(project_dir: Path = DBT_DIR) -> str:
    """Hash of the project's SQL, YAML and seeds: a build continued incrementally
    from tables built by other code would mix two definitions, so a changed
    fingerprint calls for a full refresh."""
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = project_dir / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class DbtOutcome:
    success: bool
    command: list[str]
    results: list[dict] = field(default_factory=list)
    error: str | None = None

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.results if r["status"] in ("error", "fail", "runtime error")]

    @property
    def warnings(self) -> list[dict]:
        return [r for r in self.results if r["status"] == "warn"]

    @property
    def only_data_tests_failed(self) -> bool:
        """Every model built and what failed are data tests: the audit's verdict on the
        data, not a broken build."""
        return self.error is None and only_data_tests_failed(self.failures)


def only_data_tests_failed(failures: list[dict]) -> bool:
    """True when there are failures and each is a data test that ran and failed (a test
    that could not run, status `error`, is a broken build like a model that errored)."""
    return bool(failures) and all(
        "test" in f["resource_type"] and f["status"] == "fail" for f in failures
    )


# What a build's data tests read (dbt/macros/build_audit.sql): "build", the rows a
# continued build wrote (per-row tests), the keys it wrote (key tests) and what it
# touched (the invariants); "full", every row. Read by the macros only while
# executing, so a new build id does not make dbt re-parse the project.
AUDIT_BUILD = "build"
AUDIT_FULL = "full"

# profiles.yml's outputs: the DuckDB build database, Apache Spark in this process
# (opsledger.spark), and a documented real cluster (spark_thrift, spark_databricks)
TARGETS = ("duckdb", "spark", "spark_thrift", "spark_databricks")


def dbt_env(
    build_db: Path,
    memory_limit: str = "3GB",
    build_id: str | None = None,
    audit: str = AUDIT_FULL,
    target: str = "duckdb",
) -> dict[str, str]:
    if target not in TARGETS:
        raise ValueError(f"unknown dbt target {target!r}: one of {', '.join(TARGETS)}")
    env = {
        "OPSLEDGER_DBT_TARGET": target,
        "OPSLEDGER_BUILD_DB": str(build_db),
        "OPSLEDGER_MEMORY_LIMIT": memory_limit,
        "OPSLEDGER_AUDIT": audit,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    if build_id:
        env["OPSLEDGER_BUILD_ID"] = build_id
    return env


def run_dbt(
    args: list[str],
    build_db: Path,
    work_dir: Path,
    memory_limit: str = "3GB",
    project_dir: Path = DBT_DIR,
    build_id: str | None = None,
    audit: str = AUDIT_FULL,
    target: str = "duckdb",
) -> DbtOutcome:
    """Invoke dbt on the build database; target and logs go under work_dir, not the repo.
    project_dir: another copy of the project (its profiles.yml is read from there too).
    build_id: written into the incremental tables' `_build_id` (default: dbt's
    invocation id); audit: what the data tests read (AUDIT_BUILD or AUDIT_FULL).
    target: the profile's output (TARGETS); `spark` builds in this process's
    SparkSession (opsledger.spark starts it, with the raw views, before)."""
    from dbt.cli.main import dbtRunner

    # profiles.yml reads these through env_var(); dbtRunner renders it in this process.
    # A build id left by an earlier call must not name this one's rows.
    os.environ.pop("OPSLEDGER_BUILD_ID", None)
    os.environ.update(dbt_env(build_db, memory_limit, build_id, audit, target))
    command = [
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    try:
        # dbt logs to its log file only: stdout belongs to the caller (e.g. --json)
        file_log_level = environment().dbt_file_log_level
        result = dbtRunner().invoke(
            [*command, "--log-level", "none", "--log-level-file", file_log_level]
        )
    finally:
        # dbt-duckdb keeps its connection open after invoke; release the file so
        # others (readers, the gate, publish) can open it with their own settings.
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        DuckDBConnectionManager.close_all_connections()
    rows: list[dict] = []
    for item in getattr(result.result, "results", None) or []:
        row = {
            "name": item.node.name,
            "resource_type": str(item.node.resource_type),
            "status": str(item.status),
            "message": item.message,
            "failures": item.failures,
            "seconds": round(item.execution_time, 3),
        }
        if row["status"] in ("fail", "warn"):
            config = getattr(item.node, "config", None)
            if getattr(config, "store_failures", False):
                # dbt stored the failing rows (store_failures): schema.table to open
                row["failures_table"] = f"{item.node.schema}.{item.node.alias}"
            elif getattr(item.node, "compiled_code", None):
                # kept so a failed check can name its rows (opsledger.refresh)
                row["compiled_code"] = item.node.compiled_code
        rows.append(row)
    error = str(result.exception) if result.exception else None
    return DbtOutcome(success=result.success, command=command, results=rows, error=error)
