"""The quality gate on a small hand-built build database (no dbt, no generator).

Landing expectations are errors: a batch that breaks the contract fails the gate.
The marts' distribution suites warn. The marts' invariants are dbt tests
(tests/dbt/test_invariants.py), not suites.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from opsledger.expectations.data_docs import asset_references, external_assets
from opsledger.expectations.definitions import ERROR, WARNING, suites
from opsledger.expectations.gate import GateResult, _frames, run_gate, write_results

# one breakage of the newest batch's contract per landing check; each blocks publication
LANDING_BREAKAGES = {
    ("landing_stock", "event_type_in_source_types"): (
        "update raw.stock_events set event_type = 'teleported' where event_id = 's1'"
    ),
    ("landing_stock", "quantity_positive"): (
        "update raw.stock_events set quantity = -3 where event_id = 's2'"
    ),
    ("landing_orders", "event_id_unique"): (
        "update raw.orders_events set event_id = 'o1' where event_id = 'o2'"
    ),
    ("landing_batches", "rows_reconcile"): (
        "update raw.ingest_files set loaded = loaded - 1 where source = 'orders'"
    ),
}

# distributions of the marts: reported as warnings, never blocking publication
DISTRIBUTION_ANOMALIES = {
    # orders arrived, yet fct_orders is empty
    ("marts_row_counts", "mart_not_empty"): "delete from marts.fct_orders",
    # one movement of five with an unknown cost (20% > 5%)
    ("marts_null_share", "null_share_within_limit"): (
        "update marts.fct_stock_movements set unit_cost = null where movement_id = 'm5'"
    ),
    # a ratio KPI above 1 (e.g. more units returned than shipped)
    ("marts_kpi_daily", "value_within_governed_range"): (
        "update marts.kpi_daily set value = 1.5 where kpi = 'unit_fill_rate'"
    ),
    # a store whose feed went silent for longer than its SLA
    ("marts_node_freshness", "node_not_stale"): (
        "update marts.fct_node_freshness set is_stale = true where node_id = 'ST1'"
    ),
}


def _failed(result: GateResult) -> dict[tuple[str, str], dict]:
    return {(r["suite"], r["expectation"]): r for r in result.results if not r["success"]}


@pytest.fixture(scope="module")
def clean(build_db_factory, tmp_path_factory) -> tuple[Path, Path, GateResult]:
    db = build_db_factory("clean")
    docs = tmp_path_factory.mktemp("docs_clean") / "gx_docs"
    return db, docs, run_gate(db, docs, run_id="clean-run")


@pytest.fixture(scope="module")
def broken(build_db_factory, tmp_path_factory) -> GateResult:
    db = build_db_factory("broken", *LANDING_BREAKAGES.values(), *DISTRIBUTION_ANOMALIES.values())
    return run_gate(db, tmp_path_factory.mktemp("docs_broken"), run_id="broken-run")


@pytest.fixture(scope="module")
def anomalous(build_db_factory, tmp_path_factory) -> GateResult:
    db = build_db_factory("anomalous", *DISTRIBUTION_ANOMALIES.values())
    return run_gate(db, tmp_path_factory.mktemp("docs_anomalous"), run_id="anomalous-run")


def test_clean_fixture_passes(clean):
    _, _, result = clean
    assert result.success, _failed(result)
    assert result.warnings == 0
    assert not _failed(result)
    suites_run = {r["suite"] for r in result.results}
    # master data has no events in the fixture: its landing suite has no batch to check
    assert {s.name for s in suites()} - {"landing_master"} <= suites_run
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


def test_suites_are_landing_or_mart_distributions_only():
    """One rule, one place: no suite re-checks a warehouse invariant dbt tests."""
    names = {s.name for s in suites()}
    assert all(n.startswith(("landing_", "marts_")) for n in names), sorted(names)
    for suite in suites():
        if suite.name.startswith("marts_"):
            assert all(c.severity == WARNING for c in suite.checks), suite.name
        else:
            assert any(c.severity == ERROR for c in suite.checks), suite.name


@pytest.mark.parametrize("key", list(LANDING_BREAKAGES), ids=lambda k: f"{k[0]}.{k[1]}")
def test_each_landing_breakage_fails_the_gate(broken, key):
    failed = _failed(broken)
    assert key in failed, sorted(failed)
    assert failed[key]["severity"] == ERROR
    assert not broken.success


def test_distribution_anomalies_warn_and_the_gate_passes(anomalous):
    failed = _failed(anomalous)
    assert set(failed) == set(DISTRIBUTION_ANOMALIES)
    assert all(r["severity"] == WARNING for r in failed.values())
    assert anomalous.success
    assert anomalous.warnings == len(DISTRIBUTION_ANOMALIES)


def test_failures_name_the_offending_keys(broken):
    failed = _failed(broken)
    observed = json.loads(failed[("landing_stock", "quantity_positive")]["observed_value"])
    assert observed["unexpected_count"] == 1
    assert observed["partial_unexpected_index_list"][0]["event_id"] == "s2"
    observed = json.loads(failed[("marts_node_freshness", "node_not_stale")]["observed_value"])
    assert observed["partial_unexpected_index_list"] == [{"is_stale": True, "node_id": "ST1"}]
    observed = json.loads(failed[("marts_row_counts", "mart_not_empty")]["observed_value"])
    assert observed["partial_unexpected_index_list"][0]["mart"] == "fct_orders"


def test_missing_mart_is_a_failed_error_result(build_db_factory):
    db = build_db_factory("no_kpis", "drop table marts.kpi_daily")
    frames, problems = _frames(db, "no-kpi-run")
    missing = {r["suite"]: r for r in problems if r["expectation"] == "required_tables"}
    assert set(missing) == {"marts_row_counts", "marts_null_share", "marts_kpi_daily"}
    for r in missing.values():
        assert r["severity"] == ERROR and not r["success"]
        assert "marts.kpi_daily" in json.loads(r["observed_value"])
    assert "marts_node_freshness" in frames


def test_broken_frame_query_is_a_failed_error_result(build_db_factory):
    db = build_db_factory("no_value", "alter table marts.fct_stock_daily drop column value")
    _, problems = _frames(db, "bad-column-run")
    assert [(r["suite"], r["expectation"], r["severity"]) for r in problems] == [
        ("marts_null_share", "frame_query", ERROR)
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
    assert rows[0][0] == "broken-run" and rows[0][2] >= len(LANDING_BREAKAGES)
    assert rows[1] == ("clean-run", len(result.results), 0)


def _local_references(page: Path) -> list[str]:
    return [
        ref.split("#")[0].split("?")[0]
        for ref in asset_references(page.read_text(encoding="utf-8"))
        if not ref.startswith(("data:", "#"))
    ]


def test_data_docs_render_offline(clean):
    """Index and validation pages load no http(s) asset (script src, link href, img
    src, font url), and every local file they reference exists, down to the fonts
    the vendored stylesheets load."""
    _, docs, result = clean
    assert result.docs_index == docs / "index.html"
    validation_pages = sorted((docs / "validations").rglob("*.html"))
    assert {p.parts[len(docs.parts) + 1] for p in validation_pages} >= {
        "landing_stock",
        "marts_kpi_daily",
    }
    pages = [
        docs / "index.html",
        *validation_pages,
        *sorted((docs / "expectations").rglob("*.html")),
    ]
    stylesheets = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert external_assets(text) == [], page
        refs = _local_references(page)
        assert any("static/vendor/bootstrap/bootstrap.min.css" in r for r in refs), page
        for ref in refs:
            target = (page.parent / ref).resolve()
            assert target.is_file(), f"{page.relative_to(docs)} -> {ref}"
            if target.suffix == ".css":
                stylesheets.append(target)
    fonts = 0
    for css in set(stylesheets):
        text = css.read_text(encoding="utf-8")
        assert external_assets(text) == [], css
        for ref in _local_references(css):
            fonts += ref.endswith(".woff2")
            assert (css.parent / ref).is_file(), f"{css} -> {ref}"
    assert fonts >= 3  # font-awesome's solid, regular and brands faces
    # the index links to every suite's validation page
    index = (docs / "index.html").read_text(encoding="utf-8")
    linked = set(re.findall(r"validations/([a-z_]+)/", index))
    assert {"landing_stock", "marts_node_freshness"} <= linked


def test_a_second_run_replaces_the_docs(build_db_factory, tmp_path):
    docs = tmp_path / "gx_docs"
    db = build_db_factory("rerun")
    run_gate(db, docs, run_id="first-run")
    run_gate(db, docs, run_id="second-run")
    runs = {p.parts[len(docs.parts) + 2] for p in (docs / "validations").rglob("*.html")}
    assert runs == {"second-run"}


def test_build_db_not_modified(clean):
    db, _, _ = clean
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'ops'"
        ).fetchone() == (0,)
    finally:
        con.close()


def test_the_gate_runs_in_a_python_c_process_beside_pyspark(clean, tmp_path):
    """With the spark extra installed, importing GX from a `python -c` process used to
    end it with status 0 and no output (pyspark took it for its doctest run); the
    gate names the main module while GX imports."""
    pytest.importorskip("pyspark")
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path\n"
        "from opsledger.expectations.gate import run_gate\n"
        "result = run_gate(Path(sys.argv[1]), Path(sys.argv[2]), run_id='python-c')\n"
        "print('gate ran', result.success)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(clean[0]), str(tmp_path / "docs")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "gate ran True" in done.stdout, done.stderr[-2000:]
