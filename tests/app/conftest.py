"""Fixtures for the app tests: the warehouse dbt built from a simulated run.

`real_home` (tests/conftest.py) generates scale 0.02 and runs the real refresh once
per session and is read-only; `app_home` is one session copy of it that the tests
may write to (signing in adds users and sessions to its write-back store)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest


@pytest.fixture(scope="session")
def app_home(real_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the published home (warehouse, docs, write-back store)."""
    home = tmp_path_factory.mktemp("app-home") / "home"
    shutil.copytree(real_home, home, ignore=shutil.ignore_patterns(".readers"))
    return home


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


def session_for(home: Path, role: str = "admin") -> str:
    """A live session token of a user `test_<role>` (added on first use) in `home`."""
    from opsledger import writeback as wb
    from opsledger.writeback.access import open_session

    username = f"test_{role}"
    if wb.get_user(home, username) is None:
        wb.users_add(home, username, role, f"{role}-password")
    return open_session(home, username)
