"""Fixtures for the app tests: a hand-built fixture warehouse and the real pipeline's.

`real_home` generates scale 0.02 and runs `opsledger.refresh.run_refresh(home)` once
per session; `fixture_home` is the small hand-built warehouse of fixture_warehouse.py
(contract tables plus kpi_daily, leakage and replenishment marts the pipeline may not
build yet)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.app.fixture_warehouse import build_fixture_warehouse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fixture_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("app-fixture-home")
    build_fixture_warehouse(home / "warehouse.duckdb")
    return home


# Flip to True once `opsledger refresh` publishes end to end (marts, kpi_daily, gate):
# then a pipeline that does not publish fails the app tests instead of skipping them.
REQUIRE_REAL_PIPELINE = True


@pytest.fixture(scope="session")
def real_refresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path | None, str]:
    """Generate scale 0.02 and run `opsledger.refresh.run_refresh(home)` once per session.
    Returns (home, "") when it published, else (None, why)."""
    import os

    from opsledger.refresh import run_refresh

    prebuilt = os.environ.get("OPSLEDGER_TEST_REAL_HOME")
    if prebuilt:  # a home the same pipeline published before (saves a build per run)
        home = tmp_path_factory.mktemp("app-real-home")
        shutil.copyfile(Path(prebuilt) / "warehouse.duckdb", home / "warehouse.duckdb")
        return home, ""
    home = tmp_path_factory.mktemp("app-real-home")
    try:
        _generate(home)
        result = run_refresh(home)
    except Exception as exc:  # the pipeline is still being built by others
        return None, f"refresh raised {type(exc).__name__}: {exc}"
    if not result.published:
        failures = [f.get("name") or f.get("expectation") for f in result.dbt_failures]
        failures += [f"{f.get('suite')}.{f.get('expectation')}" for f in result.gate_failures]
        return None, f"refresh did not publish ({result.status}): {result.message} {failures[:5]}"
    return home, ""


@pytest.fixture(scope="session")
def real_home(real_refresh: tuple[Path | None, str]) -> Path:
    """A warehouse published by the real pipeline (generate 0.02 + refresh)."""
    home, why = real_refresh
    if home is None:
        if REQUIRE_REAL_PIPELINE:
            pytest.fail(why)
        pytest.skip(f"real pipeline does not publish yet: {why}")
    return home


@pytest.fixture(scope="session")
def published_home(real_refresh: tuple[Path | None, str], request: pytest.FixtureRequest) -> Path:
    """The real pipeline's warehouse when it publishes, else the hand-built fixture."""
    home, why = real_refresh
    if home is None and REQUIRE_REAL_PIPELINE:
        pytest.fail(why)
    return home if home is not None else request.getfixturevalue("fixture_home")


def _generate(home: Path) -> None:
    from typer.testing import CliRunner

    from opsledger.cli import app

    out = CliRunner().invoke(
        app, ["generate", "--scale", "0.02", "--seed", "1", "--home", str(home)]
    )
    assert out.exit_code == 0, out.output


@pytest.fixture(scope="session", params=["fixture", "real"])
def any_home(request: pytest.FixtureRequest) -> Path:
    """Run a test on both warehouses."""
    return request.getfixturevalue(f"{request.param}_home")


@pytest.fixture
def empty_home(tmp_path: Path) -> Path:
    """A warehouse file with no marts in it."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema ops")
    con.close()
    return tmp_path


@pytest.fixture
def missing_home(tmp_path: Path) -> Path:
    return tmp_path


def copy_home(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    return dst
