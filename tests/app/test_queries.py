"""Unit tests of app/queries, app/filters and app/warehouse on the fixture warehouse."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from opsledger.app.filters import Filters, apply_filters
from opsledger.app.queries import (
    catalog,
    common,
    finance,
    inventory,
    overview,
    quality,
    replenishment,
    returns,
)
from opsledger.app.warehouse import NotBuilt, WarehouseMissing, connect, version

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


def test_date_node_category_filters(con: duckdb.DuckDBPyConnection) -> None:
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
    assert inventory.stock_by_state(con, evil).height == 0
    w = apply_filters(evil, channel_col="channel", sku_col="sku")
    assert "drop table" not in " ".join(w.conditions)
    assert con.execute("select count(*) from marts.dim_sku").fetchone()[0] > 0


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
        lambda c, f: inventory.aging(c, f),
        lambda c, f: inventory.sku_movements(c, f, "SKU0001"),
        lambda c, f: inventory.sku_daily(c, f, "SKU0001"),
        lambda c, f: returns.funnel(c, f),
        lambda c, f: returns.recovery(c, f),
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
        Filters(product_classes=("standard",), suppliers=("SUP1",)),
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


def test_buckets_sort_naturally() -> None:
    import polars as pl

    frame = pl.DataFrame({"age_bucket": ["15-30d", "0-2d", "31d+", "3-7d", "8-14d"]})
    assert common.bucket_order(frame)["age_bucket"].to_list() == [
        "0-2d",
        "3-7d",
        "8-14d",
        "15-30d",
        "31d+",
    ]


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
