"""Fixtures shared by every test folder: one warehouse the real pipeline published.

`real_home` generates scale 0.02 (seed 1) and runs `opsledger.refresh.run_refresh`
once per test session; the app, metrics and CLI tests read it (read-only)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# AppTest runs app/main.py as `__main__` and leaves it in sys.modules; a later
# multiprocessing "spawn" child would then re-run the Streamlit script on start-up.
_PYTEST_MAIN = sys.modules["__main__"]


# The files that take a worker a quarter of the run (a Spark build of the project;
# the inventory lifecycle's three scenarios, one of 21 builds): collected first, so
# `--dist loadfile` starts them at once instead of leaving one to run alone at the end.
LONGEST_FILES = ("tests/opsledger/test_spark_identity.py", "tests/dbt/test_inventory.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FILES.index(path) if path in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)  # stable: every other test keeps its place


@pytest.fixture(autouse=True)
def _restore_main_module():
    yield
    sys.modules["__main__"] = _PYTEST_MAIN


# Flip to True once `opsledger refresh` publishes end to end (marts, kpi_daily, gate):
# then a pipeline that does not publish fails the app tests instead of skipping them.
REQUIRE_REAL_PIPELINE = True


@pytest.fixture(scope="session")
def real_refresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path | None, str]:
    """Generate scale 0.02 and run `opsledger.refresh.run_refresh(home)` once per session.
    Returns (home, "") when it published, else (None, why)."""
    from opsledger.refresh import run_refresh

    reuse = os.environ.get("OPSLEDGER_TEST_HOME")  # local iteration: a home already published
    if reuse:
        return Path(reuse), ""
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


def _generate(home: Path) -> None:
    from typer.testing import CliRunner

    from opsledger.cli import app

    out = CliRunner().invoke(
        app,
        ["generate", "--scale", "0.02", "--seed", "1", "--end", "2025-12-31", "--home", str(home)],
    )
    assert out.exit_code == 0, out.output
