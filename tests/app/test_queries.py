"""Unit tests of app/queries, app/filters and app/warehouse on the fixture warehouse."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from app import kpis
from app.filters import Filters, apply_filters
from app.queries import (
    catalog,
    common,
    finance,
    fulfillment,
    inventory,
    overview,
    quality,
    replenishment,
    returns,
)
from app.warehouse import NotBuilt, WarehouseMissing, connect, version
from tests.app.fixture_warehouse import build_fixture_warehouse

F_ALL = Filters()


@pytest.fixture
def con(fixture_home: Path):
    with connect(fixture_home / "warehouse.duckdb") as c:
        yield c


def test_connection_is_read_only(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error):
        con.execute("create table marts.x (a int)")
    with pytest.raises(duckdb.PermissionException):
        con.execute("select * from read_text('/etc/passwd')").fetchall()


def test_missing_warehouse(tmp_path: Path) -> None:
    with pytest.raises(WarehouseMissing), connect(tmp_path / "warehouse.duckdb"):
        pass


def test_missing_table_raises_not_built(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    with connect(path) as c, pytest.raises(NotBuilt) as info:
        inventory.stock_by_state(c, F_ALL)
    assert info.value.table == "marts.fct_stock_on_hand"


def test_new_publication_changes_version(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    build_fixture_warehouse(path)
    first = version(path)
    time.sleep(0.01)
    build_fixture_warehouse(path)  # replaced by rename, like opsledger's publish
    second = version(path)
    assert first is not None and second is not None and first != second
    os.remove(path)
    assert version(path) is None


def test_channel_filter_matches_direct_sql(con: duckdb.DuckDBPyConnection) -> None:
    f = Filters(channels=("web",))
    got = fulfillment.fill_rates(con, f, "total").to_dicts()[0]
    num, den = con.execute(
        "select sum(qty_shipped_on_time), sum(qty_ordered - qty_cancelled)"
        " from marts.fct_order_lines where channel = 'web'"
    ).fetchone()
    assert got["unit_fill_rate"] == pytest.approx(num / den)
    everything = fulfillment.fill_rates(con, F_ALL, "total").to_dicts()[0]
    assert everything["units_ordered_net"] > got["units_ordered_net"]


def test_order_fill_rate_is_the_governed_order_flag(con: duckdb.DuckDBPyConnection) -> None:
    got = fulfillment.fill_rates(con, Filters(channels=("web",)), "total").to_dicts()[0]
    complete, orders = con.execute(
        "select count(*) filter (where is_complete_on_time_one_shipment), count(*)"
        " from marts.fct_orders where channel = 'web' and not is_fully_cancelled"
    ).fetchone()
    assert (got["orders_complete_on_time"], got["orders"]) == (complete, orders)
    # a node narrows to the orders with a line shipped from it
    by_node = fulfillment.fill_rates(con, Filters(nodes=("DC1",)), "total").to_dicts()[0]
    (n,) = con.execute(
        "select count(*) from marts.fct_orders where not is_fully_cancelled and order_id in"
        " (select order_id from marts.fct_order_lines where node_id = 'DC1')"
    ).fetchone()
    assert by_node["orders"] == n


def test_date_node_category_filters(con: duckdb.DuckDBPyConnection) -> None:
    f = Filters(start=date(2025, 2, 1), end=date(2025, 2, 28), categories=("apparel",))
    got = fulfillment.fill_rates(con, f, "total").to_dicts()[0]
    (den,) = con.execute(
        "select sum(qty_ordered - qty_cancelled) from marts.fct_order_lines o"
        " join marts.dim_sku d using (sku) where d.category = 'apparel'"
        " and cast(ordered_at as date) between date '2025-02-01' and date '2025-02-28'"
    ).fetchone()
    assert got["units_ordered_net"] == den
    by_node = inventory.stock_by_state(con, Filters(nodes=("DC1",)))
    (qty,) = con.execute(
        "select sum(quantity) from marts.fct_stock_on_hand where node_id = 'DC1'"
    ).fetchone()
    assert by_node["quantity"].sum() == qty


def test_channel_filter_on_stock_means_serving_nodes(con: duckdb.DuckDBPyConnection) -> None:
    got = inventory.stock_by_state(con, Filters(channels=("store",)))
    (qty,) = con.execute(
        "select sum(quantity) from marts.fct_stock_on_hand where node_id in ('ST1', 'ST2', 'ST3')"
    ).fetchone()
    assert got["quantity"].sum() == qty


def test_filter_values_are_parameters(con: duckdb.DuckDBPyConnection) -> None:
    evil = Filters(channels=("web') or 1=1 --",), categories=("x'; drop table marts.dim_sku; --",))
    assert fulfillment.fill_rates(con, evil, "total").height == 0
    w = apply_filters(evil, channel_col="channel", sku_col="sku")
    assert "drop table" not in " ".join(w.conditions)
    assert con.execute("select count(*) from marts.dim_sku").fetchone()[0] > 0


def test_kpi_values_follow_kpi_daily(con: duckdb.DuckDBPyConnection) -> None:
    defs = kpis.from_warehouse(con)
    fill = defs["unit_fill_rate"]
    f = Filters(start=date(2025, 3, 1), end=date(2025, 3, 31), channels=("web", "store"))
    value, s = overview.kpi_value(con, f, fill)
    assert s.dimension == "channel"
    num, den = con.execute(
        "select sum(numerator), sum(denominator) from marts.kpi_daily where kpi = 'unit_fill_rate'"
        " and dimension = 'channel' and dimension_value in ('web', 'store')"
        " and date between date '2025-03-01' and date '2025-03-31'"
    ).fetchone()
    assert value == pytest.approx(float(num) / float(den))
    # order fill rate has no node dimension: a node filter falls back to the total
    value2, s2 = overview.kpi_value(con, Filters(nodes=("DC1",)), defs["order_fill_rate"])
    assert s2.dimension == "all" and s2.note and "node" in s2.note
    assert value2 is not None


def test_snapshot_kpi_takes_the_last_day(con: duckdb.DuckDBPyConnection) -> None:
    defs = kpis.from_warehouse(con)
    value, _ = overview.kpi_value(con, F_ALL, defs["blocked_stock_value"])
    (last,) = con.execute(
        "select value from marts.kpi_daily where kpi = 'blocked_stock_value'"
        " and dimension = 'all' order by date desc limit 1"
    ).fetchone()
    assert value == pytest.approx(last)


def test_kpi_definitions_match_kpis_yml(con: duckdb.DuckDBPyConnection) -> None:
    from_wh = kpis.from_warehouse(con)
    from_yml = kpis.from_yaml()
    assert set(from_yml) <= set(from_wh)
    for key, kpi in from_yml.items():
        assert from_wh[key].definition == kpi.definition
        assert from_wh[key].target == kpi.target


@pytest.mark.parametrize(
    "call",
    [
        lambda c, f: overview.sla_breaches(c, f),
        lambda c, f: overview.node_freshness(c, f),
        lambda c, f: overview.last_gate(c),
        lambda c, f: inventory.stock_by_node(c, f),
        lambda c, f: inventory.stock_by_category(c, f),
        lambda c, f: inventory.stock_by_channel(c, f),
        lambda c, f: inventory.available_to_sell(c, f),
        lambda c, f: inventory.blocked_stock(c, f),
        lambda c, f: inventory.aging(c, f),
        lambda c, f: inventory.sku_movements(c, f, "SKU0001"),
        lambda c, f: inventory.sku_daily(c, f, "SKU0001"),
        lambda c, f: inventory.inventory_trend(c, f),
        lambda c, f: inventory.cycle_counts(c, f),
        lambda c, f: returns.funnel(c, f),
        lambda c, f: returns.return_rates(c, f, "sku"),
        lambda c, f: returns.return_rates(c, f, "reason"),
        lambda c, f: returns.return_rates(c, f, "cohort"),
        lambda c, f: returns.cycle_times(c, f, "category"),
        lambda c, f: returns.disposition_backlog(c, f),
        lambda c, f: returns.recovery(c, f),
        lambda c, f: fulfillment.fill_rates(c, f, "week"),
        lambda c, f: fulfillment.exceptions_by_age(c, f),
        lambda c, f: fulfillment.oversold_by_week(c, f),
        lambda c, f: finance.gross_margin_by_channel(c, f),
        lambda c, f: finance.margin_leakage(c, f),
        lambda c, f: finance.return_liabilities(c, f),
        lambda c, f: finance.gl_by_account(c, f),
        lambda c, f: finance.stock_gl_tieout(c, f),
        lambda c, f: replenishment.at_risk(c, f),
        lambda c, f: quality.gate_results(c),
        lambda c, f: quality.quarantine_summary(c),
        lambda c, f: quality.ingest_files(c),
        lambda c, f: catalog.tables(c),
        lambda c, f: common.filter_options(c),
    ],
)
@pytest.mark.parametrize(
    "f",
    [
        F_ALL,
        Filters(date(2025, 2, 1), date(2025, 3, 1), ("web",), ("DC1",), ("apparel",)),
    ],
)
def test_every_query_runs(con: duckdb.DuckDBPyConnection, call, f: Filters) -> None:
    assert call(con, f) is not None


def test_funnel_is_monotone(con: duckdb.DuckDBPyConnection) -> None:
    units = returns.funnel(con, F_ALL)["units"].to_list()
    assert units[0] >= units[1] >= units[2] > 0


def test_aging_buckets_in_order(con: duckdb.DuckDBPyConnection) -> None:
    buckets = inventory.aging(con, F_ALL)["age_bucket"].to_list()
    assert buckets == sorted(buckets, key=common.AGE_BUCKETS.index)


def test_quarantine_reconciles(con: duckdb.DuckDBPyConnection) -> None:
    summary = quality.quarantine_summary(con)
    (total,) = con.execute("select count(*) from raw.quarantine").fetchone()
    assert summary["rows_quarantined"].sum() == total


def test_dbt_docs_from_manifest(tmp_path: Path) -> None:
    (tmp_path / "dbt_docs").mkdir()
    (tmp_path / "dbt_docs" / "manifest.json").write_text(
        '{"nodes": {"model.x.dim_sku": {"resource_type": "model", "schema": "marts",'
        ' "name": "dim_sku", "description": "One row per SKU.",'
        ' "columns": {"sku": {"description": "Stock keeping unit."}}}}}'
    )
    docs = catalog.dbt_docs(catalog.manifest_path(tmp_path))
    assert docs["marts.dim_sku"]["columns"]["sku"] == "Stock keeping unit."


def test_overview_falls_back_to_marts_without_kpi_daily(fixture_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    path.write_bytes((fixture_home / "warehouse.duckdb").read_bytes())
    rw = duckdb.connect(str(path))
    rw.execute("drop table marts.kpi_daily")
    rw.close()
    f = Filters(channels=("web",))
    with connect(path) as c:
        defs = kpis.from_warehouse(c)
        frame = overview.kpi_values(c, f, (defs["unit_fill_rate"], defs["supplier_otif"]))
        direct = fulfillment.fill_rates(c, f, "total").to_dicts()[0]["unit_fill_rate"]
    row = frame.to_dicts()[0]
    assert row["value"] == pytest.approx(direct)
    assert row["note"] == overview.FALLBACK_NOTE
    assert frame.to_dicts()[1]["value"] is None  # no supplier mart in the fixture
