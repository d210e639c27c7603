"""Every dbt unit test of the project runs and passes (the domain tests check their
own models' nodes by name; a unit test's name need not contain its model's)."""

from __future__ import annotations

import yaml

from opsledger.dbt_project import DBT_DIR


def _defined_unit_tests() -> set[str]:
    names: set[str] = set()
    for path in (DBT_DIR / "models").rglob("*.yml"):
        for unit_test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(
            "unit_tests", []
        ):
            names.add(unit_test["name"])
    return names


def test_every_unit_test_ran_and_passed(generated_build):
    ran = {
        r["name"]: r["status"]
        for r in generated_build.dbt.results
        if r["resource_type"] == "unit_test"
    }
    assert set(ran) == _defined_unit_tests()
    assert {name: status for name, status in ran.items() if status != "pass"} == {}


def test_every_dbt_node_passed(generated_build):
    assert generated_build.dbt.failures == []
    assert generated_build.dbt.success
