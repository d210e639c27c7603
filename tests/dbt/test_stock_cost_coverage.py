"""Stock of unknown cost is valued as unknown, never 0: a hand-written scenario, every
figure worked out by hand.

Three SKUs at one node (DC1): K1 (mugs) with a known cost 6.00; U1 (plates) whose
cost is unknown (cost_basis unknown; its sender put 3.00 in unit_cost, a
placeholder no figure may use); U2 (bowls), unknown until a receipt at a cost.
Events (May 2025, UTC):

  05-01 09:00  K1 po_receipt 10 @ 6.00
        09:05  U1 po_receipt 3, no cost (an inferred receipt)
        09:10  U2 po_receipt 2, no cost
  05-02 10:00  K1 status_change 2 available -> quality_hold (blocked)
        10:05  U1 damaged 1 (available -> damaged, blocked)
  05-03 09:00  U2 po_receipt 2 @ 5.00 (its first known cost; delivered late in the
               incremental test)
        12:00  an order line of K1, never shipped (moves no stock)

End-of-day stock (fct_stock_daily):

  05-01  K1 available 10 x 6.00 = 60.00; U1 3 and U2 2: unknown (no value)
         value 60.00 over 10 of 15 units
  05-02  K1 available 8 = 48.00, quality_hold 2 = 12.00; U1 available 2, damaged 1
         and U2 2 unknown: value 60.00 over 10 of 15 units
  05-03  U2: W_0 is unknown, so the receipt values the 2 units carried into it at its
         own cost: W = (2 x 5.00 + 2 x 5.00) / 4 = 5.00 (not (2 x 0 + 2 x 5.00) / 4 =
         2.50, a placeholder averaged in); U2 4 x 5.00 = 20.00
         value 48.00 + 12.00 + 20.00 = 80.00 over 14 of 17 units

General ledger: the unknown-cost movements post nothing (their placeholder cost is 0,
whatever the sender put), so inventory = 60.00 (K1's receipt), then + 10.00 (U2's
receipt) + 10.00 (the revaluation of the 2 units U2 carried, Dr inventory / Cr
inventory_revaluation, source event the receipt) = 80.00: the tie-out is exact every
day, over the stock whose cost is known.

KPIs on 05-03 (the last day): inventory value 80.00, inventory cost coverage 14 / 17,
nothing assumed; blocked stock value 12.00 (K1's quality_hold; U1's damaged unit has
no cost), blocked stock cost coverage 2 / 3. Plates (U1 only): inventory value and
blocked stock value unknown (undefined, not 0), coverage 0. On 05-01: inventory value
60.00, coverage 10 / 15; bowls unknown.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from opsledger.build import build_warehouse as build
from opsledger.metrics.service import MetricsService, Slice
from tests.dbt._lifecycle import (
    continue_incrementally,
    full_build,
    ingest_all,
    land_events,
    tables_differing,
)

D = Decimal
LATE = {"R-U2b"}
LAST = date(2025, 5, 3)


def _t(day: int, hour: int, minute: int = 0) -> str:
    return f"2025-05-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def _product(sku: str, category: str, cost: str, basis: str) -> dict:
    return {"event_id": f"m-{sku}", "event_type": "product_upserted",
            "event_time": "2025-04-01T00:00:00Z", "source": "pim", "sku": sku,
            "category": category, "product_class": "standard", "unit_cost": cost,
            "list_price": "20.00", "supplier_id": "SUP1", "cost_basis": basis}  # fmt: skip


def _receipt(eid: str, sku: str, time: str, qty: int, cost: str | None = None) -> dict:
    event = {"event_id": eid, "event_type": "po_receipt", "event_time": time, "source": "wms",
             "node_id": "DC1", "sku": sku, "quantity": qty, "po_id": f"PO-{eid}"}  # fmt: skip
    return event | ({"unit_cost": cost} if cost else {})


def scenario() -> dict[str, list[dict]]:
    t0 = "2025-04-01T00:00:00Z"
    master = [
        {"event_id": "m-sup", "event_type": "supplier_upserted", "event_time": t0,
         "source": "erp", "supplier_id": "SUP1", "lead_time_days": 10},
        {"event_id": "m-chn", "event_type": "channel_upserted", "event_time": t0,
         "source": "erp", "channel_id": "web"},
        {"event_id": "m-loc", "event_type": "location_upserted", "event_time": t0,
         "source": "erp", "node_id": "DC1", "node_type": "own_dc", "channels": "web"},
    ]  # fmt: skip
    hold = {"event_id": "H-K1", "event_type": "status_change", "event_time": _t(2, 10),
            "source": "wms", "node_id": "DC1", "sku": "K1", "quantity": 2,
            "from_state": "available", "to_state": "quality_hold"}  # fmt: skip
    order = {"event_id": "O1-L1", "event_type": "order_placed", "event_time": _t(3, 12),
             "source": "web", "order_id": "O1", "order_line_id": "O1-L1", "channel": "web",
             "sku": "K1", "quantity": 1, "unit_price": "20.00", "currency": "GBP",
             "promised_by": _t(4, 18)}  # fmt: skip
    damage = {"event_id": "D-U1", "event_type": "damaged", "event_time": _t(2, 10, 5),
              "source": "wms", "node_id": "DC1", "sku": "U1", "quantity": 1}  # fmt: skip
    return {
        "master": [
            *master,
            _product("K1", "mugs", "6.00", "known"),
            _product("U1", "plates", "3.00", "unknown"),
            _product("U2", "bowls", "0", "unknown"),
        ],
        "stock": [
            _receipt("R-K1", "K1", _t(1, 9), 10, "6.00"),
            _receipt("R-U1", "U1", _t(1, 9, 5), 3),
            _receipt("R-U2a", "U2", _t(1, 9, 10), 2),
            hold,
            damage,
            _receipt("R-U2b", "U2", _t(3, 9), 2, "5.00"),
        ],
        # one order line, never shipped (it moves no stock): replenishment risk is
        # dated by the latest order date, so a warehouse without orders has no as-of day
        "orders": [order],
    }


@pytest.fixture(scope="module")
def built_db(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("stock_cost_coverage")
    ingest_all(home, land_events(home, scenario(), "week", lambda _: True))
    return full_build(home)


@pytest.fixture(scope="module")
def late_cost(tmp_path_factory) -> dict:
    """Step one without U2's receipt at a cost, step two delivers it (incremental);
    and a full refresh of the same raw events."""
    home = tmp_path_factory.mktemp("stock_cost_late")
    events = scenario()
    ingest_all(home, land_events(home, events, "week", lambda eid: eid not in LATE))
    build(home, full_refresh=True)
    continue_incrementally(home)
    ingest_all(home, land_events(home, events, "late", lambda eid: eid in LATE))
    incremental = build(home)
    assert incremental.full_refresh is False, "step two must run the incremental models"
    assert incremental.dbt.error is None and incremental.dbt.failures == []
    full_db = full_build(home, home / "full_refresh.duckdb")
    return {"incremental_db": home / "build.duckdb", "full_db": full_db}


def _kpi(svc: MetricsService, kpi: str, end: date = LAST, **filters: str) -> float | None:
    s = Slice(end=end, filters={d: (v,) for d, v in filters.items()})
    return svc.value(kpi, s).value


def assert_figures(db: Path) -> None:
    """Every figure of the module docstring, on a built database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        last_day = con.execute(
            "select sku, state, quantity, unit_cost, value, cost_basis from marts.fct_stock_daily"
            " where date = '2025-05-03' order by sku, state"
        ).fetchall()
        assert last_day == [
            ("K1", "available", 8, D("6.000000"), D("48.00"), "ledger"),
            ("K1", "quality_hold", 2, D("6.000000"), D("12.00"), "ledger"),
            ("U1", "available", 2, None, None, "unknown"),
            ("U1", "damaged", 1, None, None, "unknown"),
            ("U2", "available", 4, D("5.000000"), D("20.00"), "ledger"),
        ]
        on_hand = con.execute(
            "select sku, state, value from marts.fct_stock_on_hand order by sku, state"
        ).fetchall()
        assert on_hand == [(s, st, v) for s, st, _, _, v, _ in last_day]
        blocked = con.execute(
            "select sku, state, value from marts.fct_blocked_stock order by sku"
        ).fetchall()
        assert blocked == [("K1", "quality_hold", D("12.00")), ("U1", "damaged", None)]
        aging = con.execute(
            "select sku, sum(value) from marts.fct_inventory_aging group by sku order by sku"
        ).fetchall()
        assert aging == [("K1", D("60.00")), ("U1", None), ("U2", D("20.00"))]
        skus = con.execute(
            "select sku, unit_cost, master_unit_cost, cost_basis from marts.dim_sku order by sku"
        ).fetchall()
        assert skus == [
            ("K1", D("6.000000"), D("6.000000"), "ledger"),
            ("U1", D("0.000000"), D("0.000000"), "unknown"),  # the sender's 3.00 is unused
            ("U2", D("5.000000"), D("0.000000"), "ledger"),
        ]
        # unknown-cost movements post nothing
        u1 = con.execute("select count(*) from marts.fct_gl_entries where sku = 'U1'").fetchone()
        assert u1 == (0,)
        tieout = con.execute(
            "select cast(date as varchar), stock_units, stock_units_cost_unknown, stock_value,"
            " gl_inventory_balance, difference, revaluation_balance"
            " from marts.fct_inventory_gl_tieout order by date"
        ).fetchall()
        assert tieout == [
            ("2025-05-01", 15, 5, D("60.00"), D("60.00"), D("0.00"), D("0.00")),
            ("2025-05-02", 15, 5, D("60.00"), D("60.00"), D("0.00"), D("0.00")),
            ("2025-05-03", 17, 3, D("80.00"), D("80.00"), D("0.00"), D("10.00")),
        ]
        revaluation = con.execute(
            "select account, amount, source_event_id from marts.fct_gl_entries"
            " where journal_type = 'inventory_revaluation' order by line_number"
        ).fetchall()
        assert revaluation == [
            ("inventory_revaluation", D("-10.00"), "R-U2b"),
            ("inventory", D("10.00"), "R-U2b"),
        ]

        svc = MetricsService(con)
        assert _kpi(svc, "inventory_value") == pytest.approx(80.0)
        assert _kpi(svc, "inventory_cost_coverage") == pytest.approx(14 / 17)
        assert _kpi(svc, "inventory_cost_assumed_share") == 0.0
        assert _kpi(svc, "blocked_stock_value") == pytest.approx(12.0)
        assert _kpi(svc, "blocked_stock_cost_coverage") == pytest.approx(2 / 3)
        # no unit of the slice has a cost: undefined, never 0
        assert _kpi(svc, "inventory_value", category="plates") is None
        assert _kpi(svc, "inventory_cost_coverage", category="plates") == 0.0
        assert _kpi(svc, "blocked_stock_value", category="plates") is None
        assert _kpi(svc, "blocked_stock_cost_coverage", category="plates") == 0.0
        first = date(2025, 5, 1)
        assert _kpi(svc, "inventory_value", end=first) == pytest.approx(60.0)
        assert _kpi(svc, "inventory_cost_coverage", end=first) == pytest.approx(10 / 15)
        assert _kpi(svc, "inventory_value", end=first, category="bowls") is None
        assert _kpi(svc, "inventory_value", category="bowls") == pytest.approx(20.0)
        # kpi_daily computes the same (one definition)
        daily = con.execute(
            "select cast(date as varchar), dimension_value, value from marts.kpi_daily"
            " where kpi = 'inventory_value' and dimension in ('all', 'category')"
            " order by 1, 2"
        ).fetchall()
        assert daily == [
            ("2025-05-01", "all", 60.0), ("2025-05-01", "bowls", None),
            ("2025-05-01", "mugs", 60.0), ("2025-05-01", "plates", None),
            ("2025-05-02", "all", 60.0), ("2025-05-02", "bowls", None),
            ("2025-05-02", "mugs", 60.0), ("2025-05-02", "plates", None),
            ("2025-05-03", "all", 80.0), ("2025-05-03", "bowls", 20.0),
            ("2025-05-03", "mugs", 60.0), ("2025-05-03", "plates", None),
        ]  # fmt: skip
    finally:
        con.close()


def test_unknown_cost_stock_has_no_value_and_the_kpis_say_how_much(built_db):
    assert_figures(built_db)


def test_incremental_after_a_late_first_cost_gives_the_hand_figures(late_cost):
    assert_figures(late_cost["incremental_db"])
    assert_figures(late_cost["full_db"])


def test_incremental_after_a_late_first_cost_equals_full_refresh(late_cost):
    from tests.dbt.test_inventory import CLOCK_DEPENDENT

    differing = tables_differing(
        late_cost["incremental_db"], late_cost["full_db"], skip=CLOCK_DEPENDENT
    )
    assert differing == []


def test_a_warehouse_with_stock_and_no_orders_builds(tmp_path: Path) -> None:
    """Stock arrives before the first order (a new merchant): every dbt test passes and
    replenishment risk is as of the data's day, with no demand and no SKU at risk."""
    events = {k: v for k, v in scenario().items() if k != "orders"}
    ingest_all(tmp_path, land_events(tmp_path, events, "stock_only", lambda _: True))
    db = full_build(tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select distinct r.as_of_date = a.as_of_date, r.mean_daily_demand, r.is_at_risk"
            " from marts.fct_replenishment_risk r cross join marts.kpi_as_of a"
        ).fetchall()
    assert rows == [(True, 0.0, False)]
