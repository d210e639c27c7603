"""`dbt build` as a dbt user runs it: on an empty database, unit tests included.

The refresh skips unit tests (they check SQL logic, not data); a first build of a
new home must still pass them, which fails when a unit test's fixture takes its
column types from a table that does not exist yet (an incremental model's `this`)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from opsledger.build import ensure_raw_tables
from opsledger.dbt_project import run_dbt


def test_dbt_build_on_an_empty_database_passes_with_unit_tests(tmp_path: Path) -> None:
    build_db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(build_db))
    try:
        ensure_raw_tables(con)  # empty raw tables, as a new home has
    finally:
        con.close()

    outcome = run_dbt(["build", "--full-refresh"], build_db=build_db, work_dir=tmp_path)

    assert outcome.error is None, outcome.error
    assert outcome.failures == [], [(r["name"], r["message"]) for r in outcome.failures]
    units = [r for r in outcome.results if r["resource_type"] == "unit_test"]
    assert units, "the build ran no unit test"
    assert {r["name"]: r["status"] for r in units if r["status"] != "pass"} == {}
    assert outcome.success
