"""Unit tests of app/queries, app/filters and app/warehouse on the warehouse dbt built
from a simulated run (conftest.real_home, read-only). Expected values are computed
here from the marts' rows (in Python where the query's SQL would be the oracle)."""

from __future__ import annotations

import os
import shutil
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
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
    staleness,
)
from opsledger.app.warehouse import NotBuilt, WarehouseMissing, connect, version

F_ALL = Filters()


@pytest.fixture(scope="module")
def con(real_home: Path):
    with connect(real_home / "warehouse.duckdb") as c:
        yield c


@pytest.fixture(scope="module")
def options(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return common.filter_options(con)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


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


def test_new_publication_changes_version(real_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(real_home / "warehouse.duckdb", path)
    first = version(path)
    time.sleep(0.01)
    staged = tmp_path / "next.duckdb"
    shutil.copyfile(real_home / "warehouse.duckdb", staged)
    os.replace(staged, path)  # replaced by rename, like opsledger's publish
    second = version(path)
    assert first is not None and second is not None and first != second
    os.remove(path)
    assert version(path) is None


def test_filter_options_are_the_dimensions(con: duckdb.DuckDBPyConnection, options) -> None:
    masters = rows(con, "select node_id, channels_served from marts.dim_node")
    assert options["nodes"] == sorted(n for n, _ in masters)
    served = {c for _, channels in masters for c in channels.split("|")}
    assert set(options["channels"]) == served  # every channel is served by some node
    lo, hi = options["dates"]
    (first, last) = rows(
        con,
        "select min(cast(ordered_at as date)), max(cast(ordered_at as date))"
        " from marts.fct_order_lines",
    )[0]
    assert lo <= first and last <= hi


def test_node_and_category_filters(con: duckdb.DuckDBPyConnection, options) -> None:
    node, category = options["nodes"][0], options["categories"][0]
    got = inventory.stock_by_state(con, Filters(nodes=(node,), categories=(category,)))
    category_of = dict(rows(con, "select sku, category from marts.dim_sku"))
    expected = sum(
        q
        for sku, n, q in rows(con, "select sku, node_id, quantity from marts.fct_stock_on_hand")
        if n == node and category_of[sku] == category
    )
    assert expected > 0
    assert got["quantity"].sum() == expected


@pytest.fixture(scope="module")
def serving(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """channel -> nodes that serve it, read off dim_node in Python."""
    out: dict[str, set[str]] = defaultdict(set)
    for node, channels in rows(con, "select node_id, channels_served from marts.dim_node"):
        for channel in channels.split("|"):
            out[channel].add(node)
    return out


def test_channel_filter_on_stock_means_serving_nodes(con, options, serving) -> None:
    for channel in options["channels"]:
        got = inventory.stock_by_state(con, Filters(channels=(channel,)))
        expected = sum(
            q
            for n, q in rows(con, "select node_id, quantity from marts.fct_stock_on_hand")
            if n in serving[channel]
        )
        assert got["quantity"].sum() == expected, channel


def test_available_to_sell_is_serving_stock_less_buffer(con, serving) -> None:
    """Per channel: sum over SKUs of max(available units at its serving nodes - the
    channel's safety buffer, 0), from the on-hand rows."""
    buffer = dict(rows(con, "select channel_id, safety_buffer_units from marts.dim_channel"))
    available: dict[tuple[str, str], int] = defaultdict(int)
    on_hand = rows(con, "select sku, node_id, quantity from marts.fct_stock_on_hand"
                   " where state = 'available'")  # fmt: skip
    for channel, nodes in serving.items():
        for sku, node, qty in on_hand:
            if node in nodes:
                available[(channel, sku)] += qty
    expected: dict[str, int] = defaultdict(int)
    for (channel, _), qty in available.items():
        expected[channel] += max(qty - buffer[channel], 0)
    got = inventory.available_to_sell(con, F_ALL)
    assert dict(zip(got["channel"], got["available_to_sell"], strict=True)) == expected
    by_channel = inventory.stock_by_channel(con, F_ALL)
    assert dict(zip(by_channel["channel"], by_channel["available_units"], strict=True)) == {
        c: sum(q for (ch, _), q in available.items() if ch == c) for c in serving
    }


def test_filter_values_are_parameters(con: duckdb.DuckDBPyConnection) -> None:
    evil = Filters(channels=("web') or 1=1 --",), categories=("x'; drop table marts.dim_sku; --",))
    assert inventory.stock_by_state(con, evil).height == 0
    w = apply_filters(evil, channel_col="channel", sku_col="sku")
    assert "drop table" not in " ".join(w.conditions)
    assert con.execute("select count(*) from marts.dim_sku").fetchone()[0] > 0


CALLS = {
    "late_shipments": lambda c, f: overview.late_shipments(c, f),
    "open_sla_breaches": lambda c, f: overview.open_sla_breaches(c, f),
    "node_freshness": lambda c, f: overview.node_freshness(c, f),
    "last_gate": lambda c, f: overview.last_gate(c),
    "stock_by_node": lambda c, f: inventory.stock_by_node(c, f),
    "stock_by_category": lambda c, f: inventory.stock_by_category(c, f),
    "stock_by_channel": lambda c, f: inventory.stock_by_channel(c, f),
    "available_to_sell": lambda c, f: inventory.available_to_sell(c, f),
    "aging": lambda c, f: inventory.aging(c, f),
    "top_skus": lambda c, f: inventory.top_skus(c, f),
    "funnel": lambda c, f: returns.funnel(c, f),
    "recovery": lambda c, f: returns.recovery(c, f),
    "by_reason": lambda c, f: returns.by_reason(c, f),
    "margin_leakage": lambda c, f: finance.margin_leakage(c, f),
    "refunds_paid": lambda c, f: finance.refunds_paid(c, f),
    "return_liabilities": lambda c, f: finance.return_liabilities(c, f),
    "gl_by_account": lambda c, f: finance.gl_by_account(c, f),
    "stock_gl_tieout": lambda c, f: finance.stock_gl_tieout(c, f),
    "at_risk": lambda c, f: replenishment.at_risk(c, f),
    "oversold_by_stale_node": lambda c, f: staleness.oversold_by_stale_node(c, f),
    "gate_results": lambda c, f: quality.gate_results(c),
    "quarantine_summary": lambda c, f: quality.quarantine_summary(c),
    "ingest_files": lambda c, f: quality.ingest_files(c),
    "tables": lambda c, f: catalog.tables(c),
}


def _filters(kind: str, options: dict[str, list]) -> Filters:
    if kind == "all":
        return F_ALL
    if kind == "narrow":
        lo, hi = options["dates"]
        return Filters(
            lo + timedelta(days=30),
            hi - timedelta(days=30),
            (options["channels"][0],),
            (options["nodes"][0],),
            (options["categories"][0],),
        )
    return Filters(product_classes=(options["product_classes"][0],),
                   suppliers=(options["suppliers"][0],))  # fmt: skip


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("kind", ["all", "narrow", "class_and_supplier"])
def test_every_query_runs(con: duckdb.DuckDBPyConnection, options, name: str, kind: str) -> None:
    frame = CALLS[name](con, _filters(kind, options))
    assert isinstance(frame, pl.DataFrame)
    if kind == "all":  # the simulated run has rows for every view
        assert frame.height > 0, name


def test_funnel_counts_the_return_lines(con: duckdb.DuckDBPyConnection) -> None:
    units = dict(zip(*returns.funnel(con, F_ALL).to_dict().values(), strict=True))
    lines = rows(con, "select quantity, authorized_at, received_at, refunded_at"
                 " from marts.fct_return_lines")  # fmt: skip
    assert units["requested"] == sum(q for q, *_ in lines)
    assert units["authorized"] == sum(q for q, a, _, _ in lines if a is not None)
    assert units["refunded"] == sum(q for q, _, _, r in lines if r is not None)
    assert units["requested"] >= units["authorized"] >= units["received"] > 0


def _lower_bound(bucket: str) -> int:
    return int(bucket.split("-")[0].rstrip("+"))


def test_aging_buckets_in_order_and_complete(con: duckdb.DuckDBPyConnection) -> None:
    aging = inventory.aging(con, F_ALL)
    bounds = [_lower_bound(b) for b in aging["age_bucket"]]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds) > 1
    (total,) = rows(con, "select sum(quantity) from marts.fct_inventory_aging")[0]
    assert aging["quantity"].sum() == total


def test_margin_leakage_components_add_up_to_the_total(con: duckdb.DuckDBPyConnection) -> None:
    leak = finance.margin_leakage(con, F_ALL)
    (total,) = rows(con, "select sum(total) from marts.fct_margin_leakage")[0]
    assert leak["amount"].sum() == pytest.approx(float(total), abs=0.01)
    assert (leak["amount"] != 0).any()


def test_refunds_paid_keeps_return_and_cancellation_refunds_apart(con) -> None:
    refunds = finance.refunds_paid(con, F_ALL)
    assert refunds["refund"].to_list() == list(finance.REFUND_KINDS.values())
    sql = (
        "select journal_type, sum(credit) from marts.fct_gl_entries where account = 'cash'"
        " and journal_type in ('refund_paid', 'cancellation_refund') group by 1"
    )
    by_type = dict(rows(con, sql))
    (returned,) = rows(con, "select sum(refunds) from marts.fct_gross_margin_daily")[0]
    amounts = refunds["amount"].to_list()
    # return refunds are the margin's refunds (sales_returns); cancellation refunds are not
    assert amounts[0] == pytest.approx(float(by_type["refund_paid"]), abs=0.005)
    assert amounts[0] == pytest.approx(float(returned), abs=0.005)
    assert amounts[1] == pytest.approx(float(by_type.get("cancellation_refund", 0)), abs=0.005)


def test_at_risk_lists_the_skus_below_their_reorder_point(con) -> None:
    got = replenishment.at_risk(con, F_ALL)
    below = {
        sku
        for sku, projected, reorder in rows(
            con, "select sku, projected_available, reorder_point from marts.fct_replenishment_risk"
        )
        if reorder is not None and projected < reorder
    }
    assert set(got["sku"]) == below
    assert (got["shortfall_units"] > 0).all()


def test_node_freshness_has_every_node(con: duckdb.DuckDBPyConnection, options) -> None:
    fresh = overview.node_freshness(con, F_ALL)
    assert sorted(fresh["node_id"]) == options["nodes"]
    assert fresh["is_stale"].to_list() == sorted(fresh["is_stale"], reverse=True)


def test_last_gate_counts_every_expectation(con: duckdb.DuckDBPyConnection) -> None:
    gate = overview.last_gate(con)
    results = quality.gate_results(con)
    assert results["run_id"].n_unique() == 1
    assert gate["expectations"].sum() == results.height
    assert (gate["passed"] + gate["failed"] + gate["warnings"] == gate["expectations"]).all()
    assert gate["passed"].sum() == results["success"].sum()


def test_quarantine_reconciles(con: duckdb.DuckDBPyConnection) -> None:
    summary = quality.quarantine_summary(con)
    quarantined = rows(con, "select released_at from raw.quarantine")
    assert summary["rows_quarantined"].sum() == len(quarantined) > 0
    assert summary["still_held"].sum() == sum(r is None for (r,) in quarantined)


def test_dbt_docs_from_the_published_manifest(real_home: Path, con) -> None:
    """The manifest's column docs are the ones dbt persisted as DuckDB comments."""
    docs = catalog.dbt_docs(catalog.manifest_path(real_home))
    persisted = catalog.table_columns(con, "marts", "dim_sku")
    expected = dict(zip(persisted["column"], persisted["description"], strict=True))
    assert docs["marts.dim_sku"]["columns"] == expected
    assert all(expected.values())
