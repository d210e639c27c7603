"""Shared fixtures for dbt integration tests: real generated data, real builds.

`generated_home` generates a small operation (scale 0.02, seed 1), ingests it and
builds the warehouse once per test session; tests open the build database
read-only. Extend this file (don't replace it) when adding shared fixtures.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from opsledger.build import BuildResult
from opsledger.build import build_warehouse as build
from opsledger.core.paths import HomePaths
from opsledger.dbt_project import run_dbt
from opsledger.ingest.pipeline import run_ingest
from opsledger.ingest.simulator import generate
from opsledger.ingest.simulator.config import REFERENCE_END

SCALE = 0.02
SEED = 1


@pytest.fixture(scope="session")
def generated_landing(tmp_path_factory) -> Path:
    """A home with generated landing files and ground truth, nothing ingested."""
    home = tmp_path_factory.mktemp("generated")
    generate(home, scale=SCALE, seed=SEED, end=REFERENCE_END)
    return home


@pytest.fixture(scope="session")
def generated_build(generated_landing: Path) -> BuildResult:
    """Ingest and build (full refresh) once per session. The outcome is returned,
    not asserted: each domain's tests check the dbt results of its own nodes."""
    run_ingest(generated_landing)
    built = build(generated_landing, full_refresh=True)
    # unit tests run here once (production refreshes skip them), after the build:
    # a unit test of an incremental run reads the columns of the model's table
    units = run_dbt(
        ["test", "--select", "test_type:unit"],
        build_db=built.build_db,
        work_dir=HomePaths.at(generated_landing).builds / "dbt",
    )
    outcome = replace(
        built.dbt,
        success=built.dbt.success and units.success,
        results=built.dbt.results + units.results,
        error=built.dbt.error or units.error,
    )
    return replace(built, dbt=outcome)


@pytest.fixture(scope="session")
def generated_home(generated_landing: Path, generated_build: BuildResult) -> Path:
    """Generated, ingested and built once per session."""
    assert generated_build.dbt.error is None, generated_build.dbt.error
    return generated_landing


@pytest.fixture(scope="session")
def build_db(generated_home: Path):
    """Read-only connection to the session's build database."""
    con = duckdb.connect(str(generated_home / "build.duckdb"), read_only=True)
    yield con
    con.close()
