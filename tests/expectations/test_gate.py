"""The quality gate on a small hand-built build database (no dbt, no generator)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from opsledger.expectations.definitions import ERROR, WARNING, suites
from opsledger.expectations.gate import GateResult, _frames, run_gate, write_results

# one breakage per invariant suite; each is local to its own suite's frame
BREAKAGES = {
    # SKU B's on-hand row disappears: the ledger says 4 units exist
    ("inv_conservation", "on_hand_plus_external_zero"): (
        "delete from marts.fct_stock_on_hand where sku = 'B'"
    ),
    # a journal whose credit does not match its debit
    ("gl_journals_balanced", "journal_balances"): (
        "update marts.fct_gl_entries set credit = 99 where entry_id = 'g2'"
    ),
    # stock value on 2 March no longer matches the GL inventory balance
    ("gl_inventory_reconciled", "stock_value_equals_gl"): (
        "update marts.fct_stock_daily set value = value + 5 where date = '2025-03-02' and sku = 'B'"
    ),
}

# operational anomalies (issue 16): reported as warnings, never blocking publication
ANOMALIES = {
    # negative stock in an internal state on one day (quantity only, value unchanged)
    ("inv_non_negative", "min_quantity_non_negative"): (
        "insert into marts.fct_stock_daily values ('2025-03-02', 'A', 'ST1', 'damaged', -1, 0)"
    ),
    # refund 50 on a line that paid 40
    ("returns_refund_cap", "refund_not_above_paid"): (
        "update marts.fct_return_lines set refund_amount = 50 where return_line_id = 'RL1'"
    ),
    # hygiene items never restock
    ("returns_dispositions", "disposition_allowed_for_class"): (
        "insert into marts.fct_return_lines values ('R2', 'RL2', 'OL2', 'B', 1, 'restock', 0)"
    ),
    # a ratio KPI above 1 (e.g. more units returned than shipped)
    ("kpi_daily_governed", "ratio_within_0_1"): (
        "update marts.kpi_daily set value = 1.5 where kpi = 'unit_fill_rate'"
    ),
}

STALE_STORE = (
    "update raw.stock_events set event_time = timestamptz '2025-03-03 06:00:00+00', "
    "ingested_at = timestamptz '2025-03-03 06:05:00+00' where node_id = 'ST1'"
)


def _failed(result: GateResult) -> dict[tuple[str, str], dict]:
    return {(r["suite"], r["expectation"]): r for r in result.results if not r["success"]}


@pytest.fixture(scope="module")
def clean(build_db_factory, tmp_path_factory) -> tuple[Path, Path, GateResult]:
    db = build_db_factory("clean")
    docs = tmp_path_factory.mktemp("docs_clean")
    return db, docs, run_gate(db, docs, run_id="clean-run")


@pytest.fixture(scope="module")
def broken(build_db_factory, tmp_path_factory) -> GateResult:
    db = build_db_factory("broken", *BREAKAGES.values(), *ANOMALIES.values())
    return run_gate(db, tmp_path_factory.mktemp("docs_broken"), run_id="broken-run")


@pytest.fixture(scope="module")
def anomalous(build_db_factory, tmp_path_factory) -> GateResult:
    db = build_db_factory("anomalous", *ANOMALIES.values())
    return run_gate(db, tmp_path_factory.mktemp("docs_anomalous"), run_id="anomalous-run")


@pytest.fixture(scope="module")
def stale(build_db_factory, tmp_path_factory) -> GateResult:
    db = build_db_factory("stale", STALE_STORE)
    return run_gate(db, tmp_path_factory.mktemp("docs_stale"), run_id="stale-run")


def test_clean_fixture_passes(clean):
    _, _, result = clean
    assert result.success, _failed(result)
    assert result.warnings == 0
    assert not _failed(result)
    suites_run = {r["suite"] for r in result.results}
    assert {s.name for s in suites()} <= suites_run
    for r in result.results:
        assert set(r) >= {
            "run_id",
            "suite",
            "expectation",
            "column",
            "severity",
            "success",
            "observed_value",
            "evaluated_at",
        }
        assert r["run_id"] == "clean-run"
        assert r["severity"] in (ERROR, WARNING)
        json.loads(r["observed_value"])
    assert result.seconds > 0


@pytest.mark.parametrize("key", list(BREAKAGES), ids=lambda k: f"{k[0]}.{k[1]}")
def test_each_breakage_fails_with_error_severity(broken, key):
    failed = _failed(broken)
    assert key in failed, sorted(failed)
    assert failed[key]["severity"] == ERROR
    assert not broken.success


def test_anomalies_warn_and_the_gate_passes(anomalous):
    failed = _failed(anomalous)
    assert set(failed) == set(ANOMALIES)
    assert all(r["severity"] == WARNING for r in failed.values())
    assert anomalous.success
    assert anomalous.warnings == len(ANOMALIES)


def test_broken_fixture_reports_offending_keys(broken):
    failed = _failed(broken)
    observed = json.loads(
        failed[("inv_conservation", "on_hand_plus_external_zero")]["observed_value"]
    )
    assert observed["unexpected_count"] == 1
    assert observed["partial_unexpected_index_list"][0]["sku"] == "B"
    observed = json.loads(
        failed[("returns_dispositions", "disposition_allowed_for_class")]["observed_value"]
    )
    assert observed["partial_unexpected_index_list"][0] == {
        "allowed": False,
        "product_class": "hygiene",
        "disposition": "restock",
    }


def test_stale_node_is_a_warning_only(stale):
    failed = _failed(stale)
    assert set(failed) == {("ops_node_freshness", "node_not_stale")}
    assert failed[("ops_node_freshness", "node_not_stale")]["severity"] == WARNING
    assert stale.success
    assert stale.warnings == 1
    observed = json.loads(failed[("ops_node_freshness", "node_not_stale")]["observed_value"])
    assert observed["partial_unexpected_index_list"][0]["node_id"] == "ST1"


def test_missing_mart_is_a_failed_error_result(build_db_factory):
    db = build_db_factory("no_gl", "drop table marts.fct_gl_entries")
    frames, problems = _frames(db, "no-gl-run")
    missing = {r["suite"]: r for r in problems if r["expectation"] == "required_tables"}
    assert set(missing) == {"gl_journals_balanced", "gl_inventory_reconciled"}
    for r in missing.values():
        assert r["severity"] == ERROR and not r["success"]
        assert "marts.fct_gl_entries" in json.loads(r["observed_value"])
    assert "inv_conservation" in frames


def test_broken_frame_query_is_a_failed_error_result(build_db_factory):
    db = build_db_factory("no_value", "alter table marts.fct_stock_daily drop column value")
    _, problems = _frames(db, "bad-column-run")
    assert [(r["suite"], r["expectation"], r["severity"]) for r in problems] == [
        ("gl_inventory_reconciled", "frame_query", ERROR)
    ]


def test_results_are_written_to_ops_gate_results(clean, broken, tmp_path):
    db, _, result = clean
    target = tmp_path / "copy.duckdb"
    target.write_bytes(db.read_bytes())
    con = duckdb.connect(str(target))
    try:
        assert write_results(con, result) == len(result.results)
        write_results(con, broken)  # appends
        rows = con.execute(
            "select run_id, count(*), count(*) filter (where not success) "
            "from ops.gate_results group by run_id order by run_id"
        ).fetchall()
    finally:
        con.close()
    assert rows[0][0] == "broken-run" and rows[0][2] >= len(BREAKAGES)
    assert rows[1] == ("clean-run", len(result.results), 0)


def test_data_docs_html_in_docs_dir(clean):
    _, docs, result = clean
    assert result.docs_index == docs / "index.html"
    assert (docs / "index.html").exists()
    pages = list(docs.rglob("*.html"))
    assert any("validations" in p.parts for p in pages)
    assert any("expectations" in p.parts for p in pages)


def test_build_db_not_modified(clean):
    db, _, _ = clean
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'ops'"
        ).fetchone() == (0,)
    finally:
        con.close()
