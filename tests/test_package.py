"""The wheel a data team installs: one namespace, the dbt project inside, and the
commands working from a directory that is not the checkout.

Builds the wheel with uv, installs it with the runtime lock only into a fresh
virtualenv, then runs generate, refresh, status, kpi and serve from a temporary
directory (slow: ~2 min, most of it the install and the refresh)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")
TOP_LEVEL_FOLDERS = ("app", "models", "ingest", "expectations", "dbt")
DEV_ONLY = ("pytest", "playwright", "sqlfluff", "ruff")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # built from a copy of the tracked (and new, unignored) files: setuptools' build/
    # folder in the checkout could leak files deleted since into the wheel
    source = tmp_path_factory.mktemp("source")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    for rel in filter(None, listed.split("\0")):
        if (ROOT / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, source / rel)
    subprocess.run(
        [str(UV), "build", "--wheel", "--quiet", "--out-dir", str(out), str(source)],
        check=True,
        cwd=out,
    )
    (found,) = out.glob("opsledger-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run(
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(env_dir)], check=True
    )
    subprocess.run(
        [
            str(UV), "pip", "install", "--quiet", "--compile-bytecode",
            "--python", str(env_dir / "bin" / "python"),
            "-c", str(ROOT / "requirements.lock"), str(wheel),
        ],
        check=True,
    )  # fmt: skip
    return env_dir


def _clean_env() -> dict[str, str]:
    """The user's environment, without anything pointing at the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSLEDGER_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    return env


def _opsledger(
    venv: Path, cwd: Path, *args: str, timeout: int = 900
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / "opsledger"), *args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_wheel_installs_one_namespace_with_the_dbt_project(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"opsledger", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    for folder in TOP_LEVEL_FOLDERS:
        assert any(n.startswith(f"opsledger/{folder}/") for n in names), folder
    for required in (
        "opsledger/dbt/dbt_project.yml",
        "opsledger/dbt/profiles.yml",
        "opsledger/dbt/seeds/domain/domain_states.csv",
        "opsledger/dbt/models/marts/kpis/kpi_daily.sql",
        "opsledger/models/domain.yml",
        "opsledger/models/kpis.yml",
        "opsledger/core/environment.py",
        "opsledger/app/main.py",
        "opsledger/app/views/overview.py",
    ):
        assert required in names, required
    # nothing a build leaves behind, and no dev-only project parts
    assert not [n for n in names if "/target/" in n or "__pycache__" in n or "/logs/" in n]


def test_runtime_install_has_no_dev_tools(venv: Path) -> None:
    listed = subprocess.run(
        [str(UV), "pip", "list", "--python", str(venv / "bin" / "python"), "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "opsledger" in installed
    assert not installed & set(DEV_ONLY), installed & set(DEV_ONLY)


def test_commands_work_from_another_directory(venv: Path, tmp_path: Path) -> None:
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    home = cwd / "home"
    # the installed package, not the checkout, answers
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import opsledger.dbt_project as d; print(d.DBT_DIR)"],
        cwd=cwd, env=_clean_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    dbt_dir = Path(where.stdout.strip())
    assert dbt_dir.is_relative_to(venv) and (dbt_dir / "dbt_project.yml").is_file(), dbt_dir

    version = _opsledger(venv, cwd, "--version")
    assert version.returncode == 0 and version.stdout.startswith("opsledger "), version
    gen = _opsledger(venv, cwd, "generate", "--scale", "0.01", "--seed", "3",
                     "--end", "2025-12-31", "--home", str(home), "--json")  # fmt: skip
    assert gen.returncode == 0, gen.stderr[-2000:]
    ref = _opsledger(venv, cwd, "refresh", "--home", str(home), "--json")
    assert ref.returncode == 0, (ref.stdout[-2000:], ref.stderr[-2000:])
    assert json.loads(ref.stdout)["published"] is True
    status = _opsledger(venv, cwd, "status", "--home", str(home), "--json")
    assert status.returncode == 0, status.stderr[-2000:]
    assert json.loads(status.stdout)["published"]
    kpi = _opsledger(venv, cwd, "kpi", "unit_fill_rate", "--home", str(home), "--json")
    assert kpi.returncode == 0, kpi.stderr[-2000:]
    (value,) = json.loads(kpi.stdout)["values"]
    assert 0 < value["value"] <= 1 and value["fact_rows"] > 0
    assert not (cwd / "target").exists() and not (cwd / "logs").exists()
    _serves(venv, cwd, home)


def _serves(venv: Path, cwd: Path, home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(venv / "bin" / "opsledger"), "serve", "--home", str(home), "--port", str(port),
         "--auto-refresh", "0"],
        cwd=cwd, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    out = proc.stdout.read() if proc.stdout else ""
                    pytest.fail(f"serve did not become healthy: {out[-2000:]}")
                time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    # SIGTERM stops what serve started too: Streamlit (its port) and the watcher (home)
    assert _processes_gone([f"{port}", "opsledger.watch"], home), "serve left children running"


def _processes_gone(marks: list[str], home: Path, wait: float = 30) -> bool:
    """No process whose command line has one of `marks` and this run's home or port."""

    def running() -> list[str]:
        found = []
        for proc_dir in Path("/proc").iterdir():
            if not proc_dir.name.isdigit():
                continue
            try:
                cmd = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if ("streamlit" in cmd and f"--server.port {marks[0]}" in cmd) or (
                marks[1] in cmd and str(home) in cmd
            ):
                found.append(cmd)
        return found

    deadline = time.time() + wait
    while running():
        if time.time() > deadline:
            return False
        time.sleep(0.5)
    return True
    shutil.rmtree(home / ".streamlit", ignore_errors=True)
