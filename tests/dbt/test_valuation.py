"""Valuation of a hand-written week, every figure worked out by hand.

One SKU (V1, master unit_cost 9.00: stale, no real receipt is at that cost),
one node (DC1), one channel (web). The events, all in March 2025 (UTC):

  d1 03-01 09:00  R1 po_receipt 10 @ 10.00
  d2 03-02        order O1 / line L1: 4 @ 25.00; reserved 4, shipped 4 (S1); paid 100.00
  d3 03-03 09:00  R2 po_receipt 10 @ 13.00                 (the average moves)
  d4 03-04        return RMA1 / RL1 of L1: requested, authorized, received 4
  d5 03-05        RL1 inspected A, disposition restock 4; refund paid 100.00
  d6 03-06        order O2 / line L2: 5 @ 25.00; reserved 5, shipped 5 (S2); paid 125.00
  d7 03-07        return RMA2 of L2: RL2 (1) and RL3 (1) requested, authorized, received
  d8 03-08 09:00  R3 po_receipt 3 @ 16.50                  (the average moves)
  d9 03-09        RL2 scrap 1, RL3 liquidate 1; liquidation proceeds 5.00 for RL3;
                  refunds paid 25.00 + 25.00; order O3 / line L3 of 1 placed,
                  never shipped; RL4, a return of L3, received 1: untraced

Weighted average W = (max(Q_before, 0) * W_prev + q * c) / (max(Q_before, 0) + q):

  R1:  Q 0,  W1 = 10.00                                   on hand 10, value 100.00
  S1:  4 x W1 = 4 x 10.00 = 40.00 COGS                     on hand  6, value  60.00
  R2:  W2 = (6 x 10.00 + 10 x 13.00) / 16 = 190 / 16 = 11.875
                                                           on hand 16, value 190.00
  RL1: re-enters at S1's unit COGS 10.00 (not W2 = 11.875): 4 x 10.00 = 40.00,
       COGS credit 40.00 = S1's debit, so the return creates no margin
       (at W2 it would credit 47.50: +7.50 of margin out of nothing);
       W3 = (16 x 11.875 + 4 x 10.00) / 20 = (190 + 40) / 20 = 11.50
                                                           on hand 20, value 230.00
  restock RL1: returned -> resale_ready, internal           value 230.00
  S2:  5 x W3 = 5 x 11.50 = 57.50 COGS                     on hand 15, value 172.50
  RL2, RL3: each re-enters at S2's unit COGS 11.50 = W3, so W stays 11.50
       (15 x 11.50 + 11.50) / 16 = 11.50, then (16 x 11.50 + 11.50) / 17 = 11.50
                                                           on hand 17, value 195.50
  R3:  W4 = (17 x 11.50 + 3 x 16.50) / 20 = (195.50 + 49.50) / 20 = 12.25
                                                           on hand 20, value 245.00
  scrap RL2 1 x 12.25 = 12.25 (write_off_scrap), liquidate RL3 1 x 12.25 = 12.25
  (liquidation_cost): both at the average in effect   on hand 18, value 220.50
  RL4: untraced, at the average in effect 12.25, W unchanged
                                                           on hand 19, value 232.75

  Revenue 4 x 25 + 5 x 25 = 225.00; refunds 100 + 25 + 25 = 150.00; net revenue 75.00.
  COGS shipped 40.00 + 57.50 = 97.50; returned 40.00 + 11.50 + 11.50 + 12.25 = 75.25;
  COGS 97.50 - 75.25 = 22.25; gross margin 75.00 - 22.25 = 52.75.
  L1 on its own: sale 100 - COGS 40 + return COGS 40 - refund 100 = 0.
  Recovery: RL1 restocked 4 at their re-entry cost 10.00 = 40.00 (not the master
  9.00 -> 36.00, nor W3 11.50 -> 46.00); RL2 (scrap) 0; RL3 liquidation 5.00.
  Margin leakage: disposition cost 12.25 + 12.25 - proceeds 5.00 = 19.50.
  GL inventory posts R1 +100, S1 -40, R2 +130, RL1 +40, S2 -57.50, RL2 +11.50,
  RL3 +11.50, R3 +49.50, scrap -12.25, liquidation -12.25, RL4 +12.25: its balance
  equals the stock value above at the end of every day.

The incremental test holds back R2 and RL2's return_requested (late events):
without R2, S2 leaves at 10.00 and RL2 is untraced; delivering them late must
give exactly the full refresh's figures above.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from opsledger.build import build_warehouse as build
from tests.dbt._lifecycle import (
    continue_incrementally,
    full_build,
    ingest_all,
    land_events,
    tables_differing,
)

D = Decimal
SKU = "V1"

# the end-of-day stock value (= GL inventory balance), from the docstring
DAILY_VALUE = {
    "2025-03-01": D("100.00"),
    "2025-03-02": D("60.00"),
    "2025-03-03": D("190.00"),
    "2025-03-04": D("230.00"),
    "2025-03-05": D("230.00"),
    "2025-03-06": D("172.50"),
    "2025-03-07": D("195.50"),
    "2025-03-08": D("245.00"),
    "2025-03-09": D("232.75"),
}


def _t(day: int, hour: int, minute: int = 0) -> str:
    return f"2025-03-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def _master() -> list[dict]:
    t0 = "2025-02-01T00:00:00Z"
    return [
        {"event_id": "m-sup", "event_type": "supplier_upserted", "event_time": t0,
         "source": "erp", "supplier_id": "SUP1", "lead_time_days": 10},
        {"event_id": "m-chn", "event_type": "channel_upserted", "event_time": t0,
         "source": "erp", "channel_id": "web"},
        {"event_id": "m-loc", "event_type": "location_upserted", "event_time": t0,
         "source": "erp", "node_id": "DC1", "node_type": "own_dc", "channels": "web"},
        {"event_id": "m-prd", "event_type": "product_upserted", "event_time": t0,
         "source": "pim", "sku": SKU, "category": "toys", "product_class": "standard",
         "unit_cost": "9.00", "list_price": "25.00", "supplier_id": "SUP1",
         "returnable": True, "restock_allowed": True},
    ]  # fmt: skip


def _receipt(eid: str, time: str, qty: int, cost: str) -> dict:
    return {"event_id": eid, "event_type": "po_receipt", "event_time": time, "source": "wms",
            "node_id": "DC1", "sku": SKU, "quantity": qty, "po_id": f"PO-{eid}",
            "unit_cost": cost}  # fmt: skip


def _order(order: str, line: str, day: int, qty: int) -> tuple[list[dict], list[dict]]:
    """order_placed + payment (orders source), reserved + shipped (stock source)."""
    orders = [
        {"event_id": f"{line}-placed", "event_type": "order_placed", "event_time": _t(day, 8),
         "source": "web", "order_id": order, "order_line_id": line, "channel": "web",
         "sku": SKU, "quantity": qty, "unit_price": "25.00", "currency": "GBP",
         "promised_by": _t(day, 18), "discount": "0.00"},
        {"event_id": f"{order}-pay", "event_type": "payment_captured", "event_time": _t(day, 8, 5),
         "source": "psp", "order_id": order, "payment_id": f"PAY-{order}",
         "amount": f"{25 * qty}.00", "currency": "GBP"},
    ]  # fmt: skip
    base = {"source": "wms", "node_id": "DC1", "sku": SKU, "quantity": qty,
            "order_id": order, "order_line_id": line}  # fmt: skip
    stock = [
        {**base, "event_id": f"{line}-res", "event_type": "reserved", "event_time": _t(day, 9)},
        {**base, "event_id": f"{line}-ship", "event_type": "shipped", "event_time": _t(day, 10),
         "shipment_id": f"SH-{line}"},
    ]  # fmt: skip
    return orders, stock


def _return(rma: str, rl: str, order: str, line: str, day: int, qty: int, minute: int) -> list:
    ids = {"return_id": rma, "return_line_id": rl}
    return [
        {**ids, "event_id": f"{rl}-req", "event_type": "return_requested",
         "event_time": _t(day, 8, minute), "source": "portal", "order_id": order,
         "order_line_id": line, "sku": SKU, "quantity": qty, "reason_code": "changed_mind"},
        {**ids, "event_id": f"{rl}-auth", "event_type": "return_authorized",
         "event_time": _t(day, 8, 30 + minute), "source": "portal"},
        {**ids, "event_id": f"{rl}-rcv", "event_type": "return_received",
         "event_time": _t(day, 10, minute), "source": "portal", "node_id": "DC1", "sku": SKU,
         "quantity": qty},
    ]  # fmt: skip


def _decide(rl: str, rma: str, day: int, minute: int, grade: str, disposition: str) -> list:
    ids = {"return_id": rma, "return_line_id": rl, "node_id": "DC1", "sku": SKU, "quantity": 1}
    qty = 4 if rl == "RL1" else 1
    return [
        {**ids, "quantity": qty, "event_id": f"{rl}-insp", "event_type": "return_inspected",
         "event_time": _t(day, 9, minute), "source": "portal", "condition_grade": grade},
        {**ids, "quantity": qty, "event_id": f"{rl}-disp", "event_type": "disposition_decided",
         "event_time": _t(day, 10, minute), "source": "portal", "disposition": disposition,
         "condition_grade": grade},
    ]  # fmt: skip


def _finance(eid: str, kind: str, day: int, rma: str, rl: str, line: str, amount: str) -> dict:
    event = {
        "event_id": eid,
        "event_type": kind,
        "event_time": _t(day, 12),
        "source": "erp",
        "return_id": rma,
        "return_line_id": rl,
        "amount": amount,
        "currency": "GBP",
    }
    if kind == "refund_paid":
        event["order_line_id"] = line
    else:
        event["sku"] = SKU
    return event  # fmt: skip


def _unshipped_line() -> dict:
    """L3 is never shipped: the return of it (RL4) is untraced."""
    return {"event_id": "L3-placed", "event_type": "order_placed", "event_time": _t(9, 8),
            "source": "web", "order_id": "O3", "order_line_id": "L3", "channel": "web",
            "sku": SKU, "quantity": 1, "unit_price": "25.00", "currency": "GBP",
            "promised_by": _t(12, 18), "discount": "0.00"}  # fmt: skip


def scenario() -> dict[str, list[dict]]:
    """The week of events by landing source."""
    o1, s1 = _order("O1", "L1", 2, 4)
    o2, s2 = _order("O2", "L2", 6, 5)
    returns = (
        _return("RMA1", "RL1", "O1", "L1", 4, 4, 0)
        + _decide("RL1", "RMA1", 5, 0, "A", "restock")
        + _return("RMA2", "RL2", "O2", "L2", 7, 1, 0)
        + _return("RMA2", "RL3", "O2", "L2", 7, 1, 15)
        + _decide("RL2", "RMA2", 9, 0, "C", "scrap")
        + _decide("RL3", "RMA2", 9, 15, "B", "liquidate")
        + [
            {"event_id": "RL4-req", "event_type": "return_requested", "event_time": _t(9, 13),
             "source": "portal", "return_id": "RMA4", "return_line_id": "RL4",
             "order_id": "O3", "order_line_id": "L3", "sku": SKU, "quantity": 1,
             "reason_code": "changed_mind"},
            {"event_id": "RL4-rcv", "event_type": "return_received", "event_time": _t(9, 14),
             "source": "portal", "return_id": "RMA4", "return_line_id": "RL4",
             "node_id": "DC1", "sku": SKU, "quantity": 1},
        ]
    )  # fmt: skip
    return {
        "master": _master(),
        "stock": [
            _receipt("R1", _t(1, 9), 10, "10.00"),
            *s1,
            _receipt("R2", _t(3, 9), 10, "13.00"),
            *s2,
            _receipt("R3", _t(8, 9), 3, "16.50"),
        ],
        "orders": [*o1, *o2, _unshipped_line()],
        "returns": returns,
        "finance": [
            _finance("F1", "refund_paid", 5, "RMA1", "RL1", "L1", "100.00"),
            _finance("F2", "refund_paid", 9, "RMA2", "RL2", "L2", "25.00"),
            _finance("F3", "refund_paid", 9, "RMA2", "RL3", "L2", "25.00"),
            _finance("F4", "liquidation_proceeds", 9, "RMA2", "RL3", "L2", "5.00"),
        ],
    }


LATE = {"R2", "RL2-req"}  # held back by the incremental test


@pytest.fixture(scope="module")
def week_db(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("valuation_week")
    events = scenario()
    ingest_all(home, land_events(home, events, "week", lambda _: True))
    return full_build(home)


@pytest.fixture(scope="module")
def late_receipt(tmp_path_factory) -> dict:
    """Step one without R2 and RL2's request, step two delivers them, built
    incrementally; and a full refresh of the same raw events."""
    home = tmp_path_factory.mktemp("valuation_late")
    events = scenario()
    ingest_all(home, land_events(home, events, "week", lambda eid: eid not in LATE))
    build(home, full_refresh=True)
    # as in the inventory incremental tests: step two continues every incremental model
    continue_incrementally(home)
    with duckdb.connect(str(home / "build.duckdb"), read_only=True) as con:
        step_one = dict(
            con.execute(
                "select movement_id, unit_cost_source || ' ' || cast(unit_cost as varchar)"
                " from marts.fct_stock_movements"
            ).fetchall()
        )
    ingest_all(home, land_events(home, events, "late", lambda eid: eid in LATE))
    incremental = build(home)
    assert incremental.full_refresh is False, "step two must run the incremental models"
    assert incremental.dbt.error is None and incremental.dbt.failures == []
    full_db = full_build(home, home / "full_refresh.duckdb")
    return {"incremental_db": home / "build.duckdb", "full_db": full_db, "step_one": step_one}


def _one(con, sql: str):
    return con.execute(sql).fetchone()


def assert_week_figures(db: Path) -> None:
    """Every figure of the module docstring, on a built database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        movements = {
            r[0]: r[1:]
            for r in con.execute(
                "select movement_id, unit_cost, value, cogs_value, unit_cost_source"
                " from marts.fct_stock_movements"
            ).fetchall()
        }
        # returns re-enter at the unit COGS of their shipment, not the average
        assert movements["RL1-rcv"] == (D("10.000000"), D("40.00"), D("0.00"), "shipment")
        assert movements["RL2-rcv"] == (D("11.500000"), D("11.50"), D("0.00"), "shipment")
        assert movements["RL3-rcv"] == (D("11.500000"), D("11.50"), D("0.00"), "shipment")
        assert movements["RL4-rcv"] == (D("12.250000"), D("12.25"), D("0.00"), "untraced_return")
        assert movements["L1-ship"] == (D("10.000000"), D("40.00"), D("40.00"), "weighted_average")
        assert movements["L2-ship"] == (D("11.500000"), D("57.50"), D("57.50"), "weighted_average")
        assert movements["RL1-disp"][:2] == (D("11.500000"), D("46.00"))
        assert movements["RL2-disp"][:2] == (D("12.250000"), D("12.25"))
        assert movements["RL3-disp"][:2] == (D("12.250000"), D("12.25"))
        averages = con.execute(
            "select entry_kind, wac_after from intermediate.int_sku_costs_averaged"
            " order by receipt_seq"
        ).fetchall()
        assert averages == [
            ("receipt", D("10.000000")),
            ("receipt", D("11.875000")),
            ("return", D("11.500000")),
            ("return", D("11.500000")),
            ("return", D("11.500000")),
            ("receipt", D("12.250000")),
        ]

        margin = _one(
            con,
            "select sum(sales), sum(refunds), sum(net_revenue), sum(cogs_shipped),"
            " sum(cogs_returned), sum(cogs), sum(gross_margin) from marts.fct_gross_margin_daily",
        )
        assert margin == (
            D("225.00"), D("150.00"), D("75.00"), D("97.50"), D("75.25"), D("22.25"), D("52.75")
        )  # fmt: skip
        # the return of L1 unwinds its sale exactly: no margin from a return
        l1 = _one(
            con,
            "select sum(case when account = 'revenue' then -amount end),"
            " sum(case when account = 'cogs' then amount end),"
            " sum(case when account = 'sales_returns' then amount end)"
            " from marts.fct_gl_entries where order_line_id = 'L1' or return_line_id = 'RL1'",
        )
        assert l1 == (D("100.00"), D("0.00"), D("100.00"))

        daily = dict(
            con.execute(
                "select cast(date as varchar), stock_value from marts.fct_inventory_gl_tieout"
            ).fetchall()
        )
        assert daily == DAILY_VALUE
        tieout = con.execute(
            "select cast(date as varchar), gl_inventory_balance, difference"
            " from marts.fct_inventory_gl_tieout order by date"
        ).fetchall()
        assert [(d, b) for d, b, _ in tieout] == list(DAILY_VALUE.items())
        assert {diff for _, _, diff in tieout} == {D("0.00")}
        # no revaluation is needed: every value is exact at cost
        assert _one(con, "select count(*) from marts.fct_gl_entries where journal_type = 'inventory_revaluation'") == (0,)  # fmt: skip

        on_hand = _one(
            con,
            "select sum(quantity), sum(value), min(unit_cost) from marts.fct_stock_on_hand",
        )
        assert on_hand == (19, D("232.75"), D("12.250000"))
        assert _one(con, "select sum(value) from marts.fct_inventory_aging") == (D("232.75"),)
        # the master cost 9.00 values nothing once receipts set a real cost
        assert _one(con, "select unit_cost, master_unit_cost from marts.dim_sku") == (
            D("12.250000"),
            D("9.000000"),
        )

        recovery = dict(
            con.execute(
                "select return_line_id, recovery_value from marts.fct_return_lines"
            ).fetchall()
        )
        assert recovery == {
            "RL1": D("40.00"),
            "RL2": D("0.00"),
            "RL3": D("5.00"),
            "RL4": D("0.00"),
        }
        leakage = _one(
            con,
            "select sum(disposition_cost), sum(liquidation_proceeds), sum(disposition_loss),"
            " sum(total) from marts.fct_margin_leakage",
        )
        assert leakage == (D("24.50"), D("5.00"), D("19.50"), D("19.50"))
        # every journal line traces to an event
        assert _one(con, "select count(*) from marts.fct_gl_entries where source_event_id is null") == (0,)  # fmt: skip
    finally:
        con.close()


def test_week_figures_match_the_hand_computation(week_db):
    assert_week_figures(week_db)


def test_late_receipt_and_request_moved_step_one_figures(late_receipt):
    """Step one really differed: S2 left at 10.00 (no R2) and RL2 was untraced."""
    step_one = late_receipt["step_one"]
    assert step_one["L2-ship"] == "weighted_average 10.000000"
    assert step_one["RL2-rcv"] == "untraced_return 10.000000"


def test_incremental_after_late_receipt_gives_the_hand_figures(late_receipt):
    assert_week_figures(late_receipt["incremental_db"])
    assert_week_figures(late_receipt["full_db"])


def test_incremental_after_late_receipt_equals_full_refresh(late_receipt):
    from tests.dbt.test_inventory import CLOCK_DEPENDENT

    differing = tables_differing(
        late_receipt["incremental_db"], late_receipt["full_db"], skip=CLOCK_DEPENDENT
    )
    assert differing == []


def test_scenario_events_are_what_the_docstring_says():
    """Guards the figures above against an edit of the scenario alone."""
    events = scenario()
    receipts = [(e["event_id"], e["quantity"], e["unit_cost"]) for e in events["stock"]
                if e["event_type"] == "po_receipt"]  # fmt: skip
    assert receipts == [("R1", 10, "10.00"), ("R2", 10, "13.00"), ("R3", 3, "16.50")]
    assert {e["event_id"] for rows in events.values() for e in rows} >= LATE
