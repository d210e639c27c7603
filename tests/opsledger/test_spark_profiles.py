"""dbt/profiles.yml's Spark outputs render from the environment (a real cluster's
profiles are documented and rendered here, not run: no cluster on this machine)."""

from __future__ import annotations

import os
from argparse import Namespace

import pytest
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.flags import set_from_args
from dbt_common.context import set_invocation_context

from opsledger.dbt_project import DBT_DIR, TARGETS, dbt_env

CLUSTER = {
    "OPSLEDGER_SPARK_HOST": "spark-thrift.example.internal",
    "OPSLEDGER_SPARK_PORT": "10001",
    "OPSLEDGER_SPARK_USER": "etl",
    "OPSLEDGER_SPARK_SCHEMA": "opsledger",
    "OPSLEDGER_SPARK_TOKEN": "dapi-not-a-secret",
    "OPSLEDGER_SPARK_CLUSTER": "0101-abcdef",
    "OPSLEDGER_SPARK_THREADS": "8",
}


def _render(target: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    set_from_args(Namespace(), None)
    set_invocation_context(os.environ)
    raw = read_profile(str(DBT_DIR))
    name, data = Profile.render_profile(raw["opsledger"], "opsledger", target, ProfileRenderer({}))
    assert name == target
    return data


def test_thrift_profile_renders_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _render("spark_thrift", CLUSTER, monkeypatch)
    assert data["type"] == "spark"
    assert data["method"] == "thrift"
    assert data["host"] == "spark-thrift.example.internal"
    assert data["port"] == 10001
    assert data["user"] == "etl"
    assert data["schema"] == "opsledger"
    assert data["threads"] == 8


def test_databricks_profile_renders_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _render("spark_databricks", CLUSTER, monkeypatch)
    assert data["method"] == "http"
    assert data["token"] == "dapi-not-a-secret"
    assert data["cluster"] == "0101-abcdef"
    assert data["port"] == 443


def test_session_profile_and_default_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSLEDGER_SPARK_HOST", raising=False)  # unused targets need no env
    assert _render("spark", {}, monkeypatch)["method"] == "session"
    assert _render("duckdb", {}, monkeypatch)["type"] == "duckdb"
    assert set(TARGETS) == {"duckdb", "spark", "spark_thrift", "spark_databricks"}
    assert dbt_env(DBT_DIR / "x.duckdb")["OPSLEDGER_DBT_TARGET"] == "duckdb"
    with pytest.raises(ValueError):
        dbt_env(DBT_DIR / "x.duckdb", target="postgres")
