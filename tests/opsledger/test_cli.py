"""A CLI scripts can trust: `--version`, one exit code per kind of outcome, and under
`--json` exactly one JSON object on stdout for every outcome, errors included.

Each code is reached for real: busy by holding the home's real lock, build failed by a
raw table dbt cannot build from, gate failed by raw rows that break a dbt data test,
bad input by malformed import files, a mapping and a setting."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from opsledger.cli import app
from opsledger.core.paths import HomePaths
from opsledger.exit_codes import ExitCode
from opsledger.ingest.pipeline import ingest_lock, run_ingest
from opsledger.refresh import refresh_lock
from tests.opsledger.hostile_home import write_base

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "online_retail.yml"
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real entry point in its own process: real exit code, real stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "opsledger.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def json_error(stdout: str, code: ExitCode) -> dict:
    """stdout is exactly one JSON object, an error of `code`, and no traceback."""
    assert "Traceback" not in stdout
    outcome = json.loads(stdout)  # the whole of stdout: one object, nothing else
    assert isinstance(outcome, dict)
    assert outcome["ok"] is False
    error = outcome["error"]
    assert set(error) == {"code", "exit_code", "message"}
    assert error["exit_code"] == code and error["message"]
    return outcome


def one_line_error(stderr: str, needle: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert needle in lines[0] and "Traceback" not in stderr


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> Path:
    """A small hand-written operation (tests/opsledger/hostile_home.py), ingested."""
    home = tmp_path_factory.mktemp("cli-base") / "home"
    write_base(home)
    run_ingest(home)
    return home


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock"))
    return target


def _raw(home: Path, sql: str) -> None:
    con = duckdb.connect(str(HomePaths.at(home).raw_db))
    try:
        con.execute(sql)  # the file's catalog is named raw, like its schema
    finally:
        con.close()


def test_version_is_the_installed_package_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"opsledger {version('opsledger')}"


@pytest.mark.parametrize(
    "args",
    [
        ["nosuch"],
        ["kpi", "--nosuch"],
        ["generate", "--scale", "0"],
        ["generate", "--end", "yesterday"],
        ["import", "orders", "/no/such/file.csv", "--mapping", str(MAPPING)],
    ],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    out = runner.invoke(app, [*args, "--json", "--home", str(tmp_path)])
    assert out.exit_code == ExitCode.USAGE == 2, out.output
    assert json_error(out.stdout, ExitCode.USAGE)["error"]["code"] == "usage"
    text = runner.invoke(app, [*args, "--home", str(tmp_path)])
    assert text.exit_code == 2 and "Usage:" in text.stderr and not text.stdout


def test_an_engine_it_does_not_know_is_usage_2_with_the_engines_it_has(tmp_path: Path) -> None:
    out = runner.invoke(app, ["refresh", "--engine", "oracle", "--json", "--home", str(tmp_path)])
    assert out.exit_code == 2, out.output
    message = json_error(out.stdout, ExitCode.USAGE)["error"]["message"]
    assert "oracle" in message and "duckdb, spark" in message
    assert not (tmp_path / "warehouse.duckdb").exists()  # refused before anything ran


def test_a_memory_limit_that_is_not_a_size_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    out = runner.invoke(
        app, ["refresh", "--memory-limit", "lots", "--json", "--home", str(tmp_path)]
    )
    assert out.exit_code == ExitCode.USAGE, out.output
    assert "--memory-limit" in json_error(out.stdout, ExitCode.USAGE)["error"]["message"]
    (tmp_path / "settings.toml").write_text('[build]\nmemory_limit = "lots"\n', encoding="utf-8")
    out = runner.invoke(app, ["refresh", "--json", "--home", str(tmp_path)])
    assert out.exit_code == ExitCode.BAD_INPUT == 6, out.output
    assert "build.memory_limit" in json_error(out.stdout, ExitCode.BAD_INPUT)["error"]["message"]
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_build_takes_the_memory_limit_setting_and_flag_as_refresh_does(tmp_path: Path) -> None:
    out = runner.invoke(app, ["build", "--memory-limit", "lots", "--json", "--home", str(tmp_path)])
    assert out.exit_code == ExitCode.USAGE, out.output
    assert "--memory-limit" in json_error(out.stdout, ExitCode.USAGE)["error"]["message"]
    (tmp_path / "settings.toml").write_text('[build]\nmemory_limit = "lots"\n', encoding="utf-8")
    out = runner.invoke(app, ["build", "--json", "--home", str(tmp_path)])
    assert out.exit_code == ExitCode.BAD_INPUT, out.output
    assert "build.memory_limit" in json_error(out.stdout, ExitCode.BAD_INPUT)["error"]["message"]
    assert not (tmp_path / "build.duckdb").exists()


def test_a_kpi_the_catalog_does_not_know_is_usage_2(real_home: Path) -> None:
    out = runner.invoke(app, ["kpi", "no_such_kpi", "--json", "--home", str(real_home)])
    assert out.exit_code == 2
    assert "KPIs: " in json_error(out.stdout, ExitCode.USAGE)["error"]["message"]


def test_busy_while_another_refresh_holds_the_lock(ingested: Path, tmp_path: Path) -> None:
    home = _copy(ingested, tmp_path / "home")
    with refresh_lock(HomePaths.at(home)):  # the real lock, held by this process
        refreshed = run("refresh", "--json", "--home", str(home))
        built = run("build", "--json", "--home", str(home))
        text = run("refresh", "--home", str(home))
    for proc in (refreshed, built):
        assert proc.returncode == ExitCode.BUSY == 3, proc.stderr
        assert "another refresh or build" in json_error(proc.stdout, 3)["error"]["message"]
    assert text.returncode == 3 and not text.stdout
    one_line_error(text.stderr, "another refresh or build is running")
    assert not HomePaths.at(home).warehouse.exists()  # nothing ran


def test_busy_while_another_ingest_runs(ingested: Path, tmp_path: Path) -> None:
    home = _copy(ingested, tmp_path / "home")
    with ingest_lock(HomePaths.at(home).ingest_lock):
        proc = run("ingest", "--json", "--home", str(home))
    assert proc.returncode == 3
    assert json_error(proc.stdout, ExitCode.BUSY)["error"]["code"] == "busy"


@pytest.mark.slow
def test_build_failed_when_dbt_cannot_build_a_model(ingested: Path, tmp_path: Path) -> None:
    home = _copy(ingested, tmp_path / "home")
    # a raw table without a contract column (a damaged raw layer): staging cannot bind it
    _raw(home, "alter table raw.raw.stock_events drop column quantity")
    proc = run("build", "--json", "--home", str(home))
    assert proc.returncode == ExitCode.BUILD_FAILED == 4, proc.stderr
    outcome = json_error(proc.stdout, ExitCode.BUILD_FAILED)
    assert outcome["error"]["code"] == "build_failed"
    errored = {f["name"] for f in outcome["failures"] if f["resource_type"] == "model"}
    assert "stg_stock__movements" in errored
    assert outcome["success"] is False


@pytest.mark.slow
def test_the_build_memory_limit_is_the_setting_unless_the_flag_says(
    ingested: Path, tmp_path: Path
) -> None:
    home = _copy(ingested, tmp_path / "home")
    (home / "settings.toml").write_text('[build]\nmemory_limit = "4MB"\n', encoding="utf-8")
    starved = run("refresh", "--json", "--home", str(home))  # the setting reaches DuckDB
    assert starved.returncode == ExitCode.BUILD_FAILED, starved.stderr
    assert "Out of Memory" in json.dumps(json_error(starved.stdout, ExitCode.BUILD_FAILED))
    fed = run("refresh", "--memory-limit", "2GB", "--json", "--home", str(home))
    assert fed.returncode == 0, fed.stdout[-2000:]
    assert json.loads(fed.stdout)["published"] is True
    # the dbt-only build reads the same setting (build_warehouse resolves it)
    starved_build = run("build", "--json", "--home", str(home))
    assert starved_build.returncode == ExitCode.BUILD_FAILED, starved_build.stderr
    assert "Out of Memory" in json.dumps(json_error(starved_build.stdout, ExitCode.BUILD_FAILED))


@pytest.mark.slow
def test_gate_failed_when_the_audit_fails(ingested: Path, tmp_path: Path) -> None:
    home = _copy(ingested, tmp_path / "home")
    # the same event twice in raw (written past ingest's de-duplication): every model
    # builds, the unique tests on the event id fail
    _raw(home, "insert into raw.raw.stock_events select * from raw.raw.stock_events limit 1")
    proc = run("refresh", "--json", "--home", str(home))
    assert proc.returncode == ExitCode.GATE_FAILED == 5, proc.stderr
    outcome = json_error(proc.stdout, ExitCode.GATE_FAILED)
    assert outcome["error"]["code"] == "gate_failed" and outcome["published"] is False
    failed = {(f["resource_type"], f["status"]) for f in outcome["dbt_failures"]}
    assert failed == {("test", "fail")}
    assert any(f["name"].startswith("unique_stg_stock") for f in outcome["dbt_failures"])
    assert not HomePaths.at(home).warehouse.exists()  # nothing reached readers
    status = json.loads(run("status", "--json", "--home", str(home)).stdout)
    assert status["ok"] is True and status["last_refresh"]["published"] is False


def test_bad_input_malformed_import_files(tmp_path: Path) -> None:
    corrupt = tmp_path / "export.parquet"
    corrupt.write_bytes(b"PAR1 not really parquet")
    other = tmp_path / "export.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("columns: [\n", encoding="utf-8")
    home = str(tmp_path / "home")
    cases = [
        ([str(corrupt), "--mapping", str(MAPPING)], "cannot read"),
        ([str(other), "--mapping", str(MAPPING)], "columns of the mapping not in the file"),
        ([str(other), "--mapping", str(mapping)], "cannot read mapping"),
    ]
    for args, needle in cases:
        out = runner.invoke(app, ["import", "orders", *args, "--json", "--home", home])
        assert out.exit_code == ExitCode.BAD_INPUT == 6, out.output
        assert needle in json_error(out.stdout, ExitCode.BAD_INPUT)["error"]["message"]
        text = runner.invoke(app, ["import", "orders", *args, "--home", home])
        assert text.exit_code == 6
        one_line_error(text.stderr, needle)


def test_bad_input_a_setting_and_a_home_with_nothing_published(tmp_path: Path) -> None:
    proc = run("status", "--json", "--home", str(tmp_path), env={"OPSLEDGER_CURRENCY": "euros"})
    assert proc.returncode == 6
    assert "OPSLEDGER_CURRENCY" in json_error(proc.stdout, 6)["error"]["message"]
    out = runner.invoke(app, ["kpi", "unit_fill_rate", "--json", "--home", str(tmp_path)])
    assert out.exit_code == 6
    assert "nothing published" in json_error(out.stdout, 6)["error"]["message"]


def test_an_unexpected_error_is_one_line_or_one_object(tmp_path: Path) -> None:
    (tmp_path / "last_refresh.json").write_text("{not json", encoding="utf-8")
    proc = run("status", "--json", "--home", str(tmp_path))
    assert proc.returncode == ExitCode.FAILED == 1
    outcome = json_error(proc.stdout, ExitCode.FAILED)
    assert outcome["error"]["code"] == "internal" and "JSONDecodeError" in proc.stdout
    text = run("status", "--home", str(tmp_path))
    assert text.returncode == 1
    one_line_error(text.stderr, "internal error: JSONDecodeError")
    debug = run("status", "--json", "--home", str(tmp_path), env={"OPSLEDGER_DEBUG": "1"})
    assert "Traceback" in debug.stderr and json_error(debug.stdout, 1)


def test_success_under_json_is_one_object_with_ok(tmp_path: Path) -> None:
    proc = run("users", "list", "--json", "--home", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"ok": True, "users": []}
