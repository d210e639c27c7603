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
from tests.conftest import REQUIRE_REAL_PIPELINE  # real_refresh / real_home live there

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fixture_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("app-fixture-home")
    build_fixture_warehouse(home / "warehouse.duckdb")
    return home


@pytest.fixture(scope="session")
def published_home(real_refresh: tuple[Path | None, str], request: pytest.FixtureRequest) -> Path:
    """The real pipeline's warehouse when it publishes, else the hand-built fixture."""
    home, why = real_refresh
    if home is None and REQUIRE_REAL_PIPELINE:
        pytest.fail(why)
    return home if home is not None else request.getfixturevalue("fixture_home")


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
