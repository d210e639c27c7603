"""Warehouse invariants live in dbt only (issue 19, part 5): every invariant the
quality gate used to re-check has a singular dbt test, and a broken warehouse fails
it with its rows stored in schema audit (store_failures), where the refresh reads
them to name the failing rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from opsledger.dbt_project import run_dbt
from opsledger.refresh import name_failing_rows

# each invariant of the former GX suites (suite.check) -> the dbt test that owns it
INVARIANTS = {
    "inv_conservation.ledger_legs_cancel": "assert_stock_ledger_conserved",
    "inv_conservation.on_hand_plus_external_zero": "assert_stock_on_hand_conserved",
    "inv_non_negative.min_quantity_non_negative": "assert_stock_daily_never_negative",
    "inv_non_negative.state_internal": "assert_stock_on_hand_internal_states",
    "gl_journals_balanced.journal_balances": "assert_gl_journals_balance",
    "gl_inventory_reconciled.stock_value_equals_gl": "assert_gl_tieout_exact",
    "returns_refund_cap.refund_not_above_paid": "assert_refunds_within_paid_per_order_line",
    "returns_dispositions.disposition_allowed_for_class": (
        "assert_dispositions_allowed_for_product_class"
    ),
    "kpi_daily_governed.kpi_governed": "assert_kpi_daily_kpis_governed",
    "kpi_daily_governed.kpi_rows_unique": "assert_kpi_daily_grain_unique",
    "kpi_daily_governed.kpi_has_total": "assert_kpi_daily_covers_every_kpi",
}

# breakages of a published warehouse, each caught by the dbt test named
BREAKAGES = {
    "assert_stock_on_hand_conserved": (
        "delete from marts.fct_stock_on_hand where sku = (select min(sku) from "
        "marts.fct_stock_on_hand where quantity > 0)"
    ),
    "assert_stock_on_hand_internal_states": (
        "update marts.fct_stock_on_hand set state = 'teleported' where sku = "
        "(select max(sku) from marts.fct_stock_on_hand)"
    ),
    "assert_gl_journals_balance": (
        "update marts.fct_gl_entries set credit = credit + 1 where entry_id = "
        "(select min(entry_id) from marts.fct_gl_entries where credit > 0)"
    ),
    "assert_kpi_daily_kpis_governed": (
        "insert into marts.kpi_daily select * replace ('made_up_kpi' as kpi) "
        "from marts.kpi_daily limit 1"
    ),
}


def _named_generic_tests(models: Path) -> set[str]:
    """Generic tests given a name in the models' YAML (kpi_daily's primary_key)."""
    names = set()
    for path in models.rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            for test in model.get("data_tests") or []:
                if isinstance(test, dict):
                    (body,) = test.values()
                    if isinstance(body, dict) and body.get("name"):
                        names.add(body["name"])
    return names


def test_every_former_gate_invariant_is_a_dbt_test():
    dbt_dir = Path(__file__).resolve().parents[2] / "dbt"
    singular = {p.stem for p in (dbt_dir / "tests").rglob("*.sql")}
    tests = singular | _named_generic_tests(dbt_dir / "models")
    missing = {check: test for check, test in INVARIANTS.items() if test not in tests}
    assert missing == {}


@pytest.fixture(scope="module")
def broken(real_home: Path, tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """A copy of the published warehouse with the breakages, and the dbt results of
    the invariant tests run on it."""
    work = tmp_path_factory.mktemp("broken-invariants")
    # same file name: DuckDB names the catalog after it and dbt's views carry the name
    db = work / "warehouse.duckdb"
    shutil.copyfile(real_home / "warehouse.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        for sql in BREAKAGES.values():
            con.execute(sql)
    finally:
        con.close()
    outcome = run_dbt(
        ["test", "--select", *sorted(set(INVARIANTS.values()))], build_db=db, work_dir=work
    )
    assert outcome.error is None, outcome.error
    return db, {r["name"]: r for r in outcome.results}


def test_invariant_tests_store_their_failures_in_audit(broken):
    db, results = broken
    assert set(INVARIANTS.values()) <= set(results)
    for name in BREAKAGES:
        assert results[name]["status"] == "fail", results[name]
        assert results[name]["failures_table"] == f"audit.{name}"
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name in BREAKAGES:
            stored = con.execute(f"select count(*) from audit.{name}").fetchone()[0]
            assert stored == results[name]["failures"] >= 1, name
        audit = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'audit'"
            ).fetchall()
        }
        assert set(INVARIANTS.values()) <= audit  # every invariant keeps its failing rows
        # the breakages are local: the other invariants still hold, their tables empty
        assert (
            con.execute("select count(*) from audit.assert_stock_ledger_conserved").fetchone()[0]
            == 0
        )
    finally:
        con.close()


def test_refresh_names_the_failing_rows_from_the_audit_tables(broken):
    db, results = broken
    checks = [dict(results[name]) for name in BREAKAGES]
    name_failing_rows(db, checks)
    by_name = {c["name"]: c for c in checks}
    assert by_name["assert_kpi_daily_kpis_governed"]["rows"] == [{"kpi": "made_up_kpi"}]
    internal = by_name["assert_stock_on_hand_internal_states"]["rows"]
    assert {"model": "fct_stock_on_hand", "state": "teleported"} in internal
    journal = by_name["assert_gl_journals_balance"]["rows"][0]
    assert journal["debits"] != journal["credits"]
