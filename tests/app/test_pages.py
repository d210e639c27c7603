"""AppTest: every page renders on the warehouse dbt built (conftest.app_home) and on a
missing or empty one, filters change the numbers as the marts say, and the workbench
refuses what it must."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from opsledger.core.readonly import connect_read_only
from tests.app.conftest import session_for

MAIN = "../../app/main.py"  # from_file resolves it relative to this file
PAGES = [
    "overview",
    "inventory",
    "returns",
    "fulfillment",
    "finance",
    "replenishment",
    "quality",
    "workbench",
]


def open_app(
    home: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None, role: str = "admin"
) -> AppTest:
    """The app signed in as a user of `role` (None: signed out), on `page`."""
    monkeypatch.setenv("OPSLEDGER_HOME", str(home))
    at = AppTest.from_file(MAIN, default_timeout=180)
    if role is not None:
        at.session_state["wb_session"] = session_for(home, role)
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    return at


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return found[0]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_a_warehouse(app_home: Path, page: str, monkeypatch) -> None:
    at = open_app(app_home, monkeypatch, page)
    no_errors(at)
    assert at.title[0].value
    if page != "workbench":
        # every table comes with a CSV download
        assert len(at.get("download_button")) >= 1
    assert not [i for i in at.info if "No published warehouse" in i.value]
    # a query naming a column the mart's contract does not have shows as a warning
    assert not [w.value for w in at.warning if "could not be computed" in w.value]
    assert not [i.value for i in at.info if "is not built yet" in i.value]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_page_renders_without_a_warehouse(
    kind: str, page: str, request: pytest.FixtureRequest, monkeypatch
) -> None:
    home = request.getfixturevalue(f"{kind}_home")
    at = open_app(home, monkeypatch, page)
    no_errors(at)
    assert any("opsledger refresh" in i.value for i in at.info)


def test_overview_shows_definitions(app_home: Path, monkeypatch) -> None:
    from opsledger.models.kpis import catalog

    at = open_app(app_home, monkeypatch, "overview")
    no_errors(at)
    # every card's tooltip carries its definition
    helps = {m.label: m.help for m in at.metric}
    for key in ("unit_fill_rate", "return_rate_units", "margin_leakage"):
        kpi = catalog().get(key)
        assert kpi.definition in helps[kpi.name]


def _fill_rate(home: Path, where: str = "", params: list | None = None) -> str:
    con = connect_read_only(home / "warehouse.duckdb")
    try:
        # the governed definition: lines promised by the data's as-of day
        due = "cast(o.promised_by as date) <= (select as_of_date from marts.kpi_as_of)"
        where = f"{where} and {due}" if where else f"where {due}"
        num, den = con.execute(
            "select sum(qty_shipped_on_time), sum(qty_ordered - qty_cancelled)"
            f" from marts.fct_order_lines o {where}",
            params or [],
        ).fetchone()
    finally:
        con.close()
    return f"{float(num) / float(den):.1%}"


def test_channel_filter_changes_fill_rate(app_home: Path, monkeypatch) -> None:
    at = open_app(app_home, monkeypatch, "fulfillment")
    no_errors(at)
    assert metric(at, "Unit fill rate") == _fill_rate(app_home)
    channel = at.multiselect(key="f_channels").options[0]
    at.multiselect(key="f_channels").set_value([channel]).run()
    no_errors(at)
    assert metric(at, "Unit fill rate") == _fill_rate(app_home, "where channel = ?", [channel])


def test_category_filter_changes_fill_rate(app_home: Path, monkeypatch) -> None:
    at = open_app(app_home, monkeypatch, "fulfillment")
    category = at.multiselect(key="f_categories").options[0]
    at.multiselect(key="f_categories").set_value([category]).run()
    no_errors(at)
    expected = _fill_rate(
        app_home,
        "join marts.dim_sku d on d.sku = o.sku where d.category = ?",
        [category],
    )
    assert metric(at, "Unit fill rate") == expected


def test_node_filter_changes_inventory(app_home: Path, monkeypatch) -> None:
    at = open_app(app_home, monkeypatch, "inventory")
    node = at.multiselect(key="f_nodes").options[0]
    at.multiselect(key="f_nodes").set_value([node]).run()
    no_errors(at)
    con = connect_read_only(app_home / "warehouse.duckdb")
    (qty,) = con.execute(
        "select sum(quantity) from marts.fct_stock_on_hand where node_id = ?", [node]
    ).fetchone()
    con.close()
    assert metric(at, "On-hand units") == f"{int(qty):,}"


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="wb_sql").input(sql)
    at.button(key="wb_run").click().run()
    return at


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("COPY marts.dim_sku TO '/tmp/x.csv'", "COPY statements are not allowed"),
        ("ATTACH '/tmp/x.duckdb' AS x", "ATTACH statements are not allowed"),
        ("INSTALL httpfs", "INSTALL statements are not allowed"),
        ("select * from read_csv('/etc/passwd')", "read_csv would read files"),
        ("select * from read_text('/etc/passwd')", "read_text would read files"),
        ("create table marts.x as select 1", "CREATE statements are not allowed"),
        ("drop table marts.dim_sku", "DROP statements are not allowed"),
        ("delete from marts.dim_sku", "DELETE statements are not allowed"),
        ("select * from marts.no_such_table", "Unknown table or column"),
        ("selec 1", "Syntax error"),
    ],
)
def test_workbench_refuses(app_home: Path, sql: str, message: str, monkeypatch) -> None:
    at = run_sql(open_app(app_home, monkeypatch, "workbench"), sql)
    assert not at.exception
    assert at.error and message in at.error[0].value
    history = at.session_state["wb_history"]
    assert history[0]["sql"] == sql


def test_workbench_runs_a_select(app_home: Path, monkeypatch) -> None:
    at = run_sql(
        open_app(app_home, monkeypatch, "workbench"),
        "select sku, category from marts.dim_sku order by sku limit 7",
    )
    no_errors(at)
    frames = [d.value for d in at.dataframe]
    assert any(list(f.columns) == ["sku", "category"] and len(f) == 7 for f in frames)
    assert at.get("download_button")
    assert at.session_state["wb_history"][0]["status"] == "ok"
    # the warehouse is unchanged: the tables are still there
    con = connect_read_only(app_home / "warehouse.duckdb")
    assert con.execute("select count(*) from marts.dim_sku").fetchone()[0] > 0
    con.close()


def test_new_publication_is_picked_up(app_home: Path, tmp_path: Path, monkeypatch) -> None:
    """Publishing a new file (atomic rename) changes what the running app shows."""
    import os

    from tests.app.conftest import copy_home

    home = copy_home(app_home, tmp_path / "home")
    at = open_app(home, monkeypatch, "inventory")
    before = metric(at, "On-hand units")
    staged = tmp_path / "next.duckdb"
    staged.write_bytes((home / "warehouse.duckdb").read_bytes())
    con = duckdb.connect(str(staged))
    con.execute("update marts.fct_stock_on_hand set quantity = quantity + 1")
    (total,) = con.execute("select sum(quantity) from marts.fct_stock_on_hand").fetchone()
    con.execute("checkpoint")
    con.close()
    os.replace(staged, home / "warehouse.duckdb")
    at.run()
    no_errors(at)
    after = metric(at, "On-hand units")
    assert after == f"{int(total):,}" and after != before


def test_quality_page_says_how_the_publication_was_audited(app_home: Path, monkeypatch) -> None:
    """The home's first publication is audited in full (issue 21): the page says so and
    the publications table carries the audit kind."""
    at = open_app(app_home, monkeypatch, "quality")
    no_errors(at)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Audit: full") for c in captions), captions
    assert "Built by: duckdb." in captions  # the engine (issue 22): this home's is DuckDB
