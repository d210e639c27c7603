"""Every dbt source declares freshness, and its thresholds are the domain model's SLAs;
`dbt source freshness` runs them against the clock."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from opsledger.dbt_project import DBT_DIR, run_dbt
from opsledger.models import load_domain
from opsledger.models.freshness import source_freshness


def _declared() -> dict[str, dict]:
    sources: dict[str, dict] = {}
    for path in (DBT_DIR / "models").rglob("_*__sources.yml"):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            sources[source["name"]] = source
    return sources


def test_every_source_has_the_domain_models_freshness() -> None:
    declared = _declared()
    expected = source_freshness(load_domain())
    assert set(declared) == set(expected)
    for name, source in declared.items():
        assert source["config"]["freshness"] == expected[name], name
        for table in source["tables"]:
            assert table.get("loaded_at_field") == "ingested_at", f"{name}.{table['name']}"


def test_stock_freshness_spans_the_node_slas() -> None:
    stock = source_freshness(load_domain())["stock"]
    # own_dc 180 min is the tightest SLA, the 3pl node type's 1440 the loosest
    assert stock["warn_after"] == {"count": 180, "period": "minute"}
    assert stock["error_after"] == {"count": 1440, "period": "minute"}


def test_dbt_source_freshness_runs_on_every_source(generated_home: Path, tmp_path: Path) -> None:
    # a copy: the session's `build_db` fixture may hold the file open read-only, and
    # DuckDB refuses a second, read-write open of it in the same process
    build = tmp_path / "build.duckdb"
    shutil.copyfile(generated_home / "build.duckdb", build)
    outcome = run_dbt(["source", "freshness"], build_db=build, work_dir=tmp_path / "dbt")
    assert outcome.error is None, outcome.error
    checked = {r["name"] for r in outcome.results}
    assert checked == {t["name"] for s in _declared().values() for t in s["tables"]}
    # the generated history ended in the past: against the clock every source is late
    assert {r["status"] for r in outcome.results} <= {"pass", "warn", "error"}
