"""Money refunded on a cancellation, through the marts and the general ledger: a
hand-written week, every figure worked out by hand.

One SKU (C1, known cost 6.00), one node (DC1), one channel (web), GBP. Events
(April 2025, UTC):

  04-01 09:00  R1 po_receipt 10 @ 6.00
  04-02        order O1: L1 3 @ 20.00, L2 2 @ 15.00; payment 90.00 (08:05);
               L1 shipped 3 (10:00)
  04-03 11:00  CX1 order_cancelled O1 / L2, 2 units, amount 30.00 (L2 never shipped)
  04-04        order O2: L3 1 @ 20.00; payment 20.00 (08:05);
               CX2 order_cancelled O2 (whole order, no line), amount 20.00 (12:00)
  04-05        order O3: L4 4 @ 10.00; payment 40.00 (08:05);
               CX3 order_cancelled O3 / L4, 1 unit, amount 10.00 (09:00);
               L4 shipped 3 (10:00)
  04-06        return RMA1 / RL1 of L1 (1 unit) requested (09:00), never received;
               F1 refund_paid 20.00 for RL1 (12:00)

Posting rules (docs/posting-rules.md): a sale posts at shipment (Dr AR / Cr revenue),
a payment Dr cash / Cr AR, a return refund Dr sales_returns / Cr cash, a
cancellation refund Dr AR / Cr cash (the payment reversed: the units were never
invoiced, so no revenue is reversed).

  sales     L1 3 x 20.00 = 60.00, L4 3 x 10.00 = 30.00            revenue   -90.00
  COGS      (3 + 3) x 6.00 = 36.00                                 cogs       36.00
  inventory 60.00 - 36.00 = 24.00 (4 units x 6.00)                 inventory  24.00
  receipts                                                          GRNI      -60.00
  payments  90 + 20 + 40 = 150.00
  cancellation refunds CX1 30.00 + CX2 20.00 + CX3 10.00 = 60.00
  return refund F1 20.00                                  sales_returns       20.00
  cash      150.00 - 60.00 - 20.00 = 70.00                          cash       70.00
  AR        90.00 + 60.00 - 150.00 = 0.00: per order, invoiced + cancellation
            refunds - paid: O1 60 + 30 - 90, O2 0 + 20 - 20, O3 30 + 10 - 40, all 0
  (the accounts add up: 70 + 0 + 24 - 60 - 90 + 20 + 36 = 0)

  gross margin = sales 90.00 - refunds 20.00 (return refunds only) - COGS 36.00 = 34.00
  margin leakage = the refund of RL1, never received: 20.00 (cancellation refunds are
  no loss: nothing was sold)
  fct_order_lines.cancellation_refund_amount: L1 0, L2 30.00, L3 0 (CX2 names no
  line), L4 10.00; fct_orders: O1 30.00, O2 20.00, O3 10.00
  refunds paid (Finance page): return refunds 20.00 (1), cancellation refunds 60.00 (3)

The incremental test holds back CX1 and CX3 (late cancellations, CX3 after L4's
shipment was built): delivering them late gives exactly the full refresh's figures.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from opsledger.app.filters import Filters
from opsledger.app.queries import finance
from opsledger.build import build_warehouse as build
from tests.dbt._lifecycle import (
    continue_incrementally,
    full_build,
    ingest_all,
    land_events,
    tables_differing,
)

D = Decimal
SKU = "C1"
LATE = {"CX1", "CX3"}


def _t(day: int, hour: int, minute: int = 0) -> str:
    return f"2025-04-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def _master() -> list[dict]:
    t0 = "2025-03-01T00:00:00Z"
    return [
        {"event_id": "m-sup", "event_type": "supplier_upserted", "event_time": t0,
         "source": "erp", "supplier_id": "SUP1", "lead_time_days": 10},
        {"event_id": "m-chn", "event_type": "channel_upserted", "event_time": t0,
         "source": "erp", "channel_id": "web"},
        {"event_id": "m-loc", "event_type": "location_upserted", "event_time": t0,
         "source": "erp", "node_id": "DC1", "node_type": "own_dc", "channels": "web"},
        {"event_id": "m-prd", "event_type": "product_upserted", "event_time": t0,
         "source": "pim", "sku": SKU, "category": "mugs", "product_class": "standard",
         "unit_cost": "6.00", "list_price": "20.00", "supplier_id": "SUP1"},
    ]  # fmt: skip


def _line(order: str, line: str, day: int, qty: int, price: str) -> dict:
    return {"event_id": f"{line}-placed", "event_type": "order_placed", "event_time": _t(day, 8),
            "source": "web", "order_id": order, "order_line_id": line, "channel": "web",
            "sku": SKU, "quantity": qty, "unit_price": price, "currency": "GBP",
            "promised_by": _t(day, 18), "discount": "0.00"}  # fmt: skip


def _payment(order: str, day: int, amount: str) -> dict:
    return {"event_id": f"{order}-pay", "event_type": "payment_captured",
            "event_time": _t(day, 8, 5), "source": "psp", "order_id": order,
            "payment_id": f"PAY-{order}", "amount": amount, "currency": "GBP"}  # fmt: skip


def _cancel(eid: str, order: str, line: str | None, qty: int | None, time: str, amount: str):
    event = {"event_id": eid, "event_type": "order_cancelled", "event_time": time,
             "source": "web", "order_id": order, "reason_code": "customer_request",
             "amount": amount, "currency": "GBP"}  # fmt: skip
    if line:
        event |= {"order_line_id": line, "quantity": qty}
    return event


def _ship(order: str, line: str, day: int, qty: int) -> dict:
    return {"event_id": f"{line}-ship", "event_type": "shipped", "event_time": _t(day, 10),
            "source": "wms", "node_id": "DC1", "sku": SKU, "quantity": qty, "order_id": order,
            "order_line_id": line, "shipment_id": f"SH-{line}"}  # fmt: skip


def scenario() -> dict[str, list[dict]]:
    """The week of events by landing source."""
    receipt = {"event_id": "R1", "event_type": "po_receipt", "event_time": _t(1, 9),
               "source": "wms", "node_id": "DC1", "sku": SKU, "quantity": 10, "po_id": "PO-1",
               "unit_cost": "6.00"}  # fmt: skip
    request = {"event_id": "RL1-req", "event_type": "return_requested", "event_time": _t(6, 9),
               "source": "portal", "return_id": "RMA1", "return_line_id": "RL1",
               "order_id": "O1", "order_line_id": "L1", "sku": SKU, "quantity": 1,
               "reason_code": "changed_mind"}  # fmt: skip
    refund = {"event_id": "F1", "event_type": "refund_paid", "event_time": _t(6, 12),
              "source": "erp", "return_id": "RMA1", "return_line_id": "RL1",
              "order_line_id": "L1", "amount": "20.00", "currency": "GBP"}  # fmt: skip
    return {
        "master": _master(),
        "stock": [receipt, _ship("O1", "L1", 2, 3), _ship("O3", "L4", 5, 3)],
        "orders": [
            _line("O1", "L1", 2, 3, "20.00"),
            _line("O1", "L2", 2, 2, "15.00"),
            _payment("O1", 2, "90.00"),
            _cancel("CX1", "O1", "L2", 2, _t(3, 11), "30.00"),
            _line("O2", "L3", 4, 1, "20.00"),
            _payment("O2", 4, "20.00"),
            _cancel("CX2", "O2", None, None, _t(4, 12), "20.00"),
            _line("O3", "L4", 5, 4, "10.00"),
            _payment("O3", 5, "40.00"),
            _cancel("CX3", "O3", "L4", 1, _t(5, 9), "10.00"),
        ],
        "returns": [request],
        "finance": [refund],
    }


@pytest.fixture(scope="module")
def week_db(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cancellation_week")
    ingest_all(home, land_events(home, scenario(), "week", lambda _: True))
    return full_build(home)


@pytest.fixture(scope="module")
def late_cancellations(tmp_path_factory) -> dict:
    """Step one without CX1 and CX3, step two delivers them, built incrementally;
    and a full refresh of the same raw events."""
    home = tmp_path_factory.mktemp("cancellation_late")
    events = scenario()
    ingest_all(home, land_events(home, events, "week", lambda eid: eid not in LATE))
    build(home, full_refresh=True)
    continue_incrementally(home)
    with duckdb.connect(str(home / "build.duckdb"), read_only=True) as con:
        step_one = con.execute(
            "select sum(amount) from marts.fct_gl_entries where account = 'cash'"
        ).fetchone()[0]
    ingest_all(home, land_events(home, events, "late", lambda eid: eid in LATE))
    incremental = build(home)
    assert incremental.full_refresh is False, "step two must run the incremental models"
    assert incremental.dbt.error is None and incremental.dbt.failures == []
    full_db = full_build(home, home / "full_refresh.duckdb")
    return {"incremental_db": home / "build.duckdb", "full_db": full_db, "step_one": step_one}


def assert_week_figures(db: Path) -> None:
    """Every figure of the module docstring, on a built database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        balances = dict(
            con.execute(
                "select account, sum(amount) from marts.fct_gl_entries group by account"
            ).fetchall()
        )
        assert balances == {
            "cash": D("70.00"), "accounts_receivable": D("0.00"), "inventory": D("24.00"),
            "goods_received_not_invoiced": D("-60.00"), "revenue": D("-90.00"),
            "sales_returns": D("20.00"), "cogs": D("36.00"),
        }  # fmt: skip
        refunds = con.execute(
            "select journal_id, source_event_id, event_type, account, amount, sku, channel,"
            " order_line_id, cast(posted_date as varchar) from marts.fct_gl_entries"
            " where journal_type = 'cancellation_refund' order by entry_id"
        ).fetchall()
        assert refunds == [
            ("cxl:CX1", "CX1", "order_cancelled", "accounts_receivable", D("30.00"), SKU, "web", "L2", "2025-04-03"),
            ("cxl:CX1", "CX1", "order_cancelled", "cash", D("-30.00"), SKU, "web", "L2", "2025-04-03"),
            ("cxl:CX2", "CX2", "order_cancelled", "accounts_receivable", D("20.00"), None, "web", None, "2025-04-04"),
            ("cxl:CX2", "CX2", "order_cancelled", "cash", D("-20.00"), None, "web", None, "2025-04-04"),
            ("cxl:CX3", "CX3", "order_cancelled", "accounts_receivable", D("10.00"), SKU, "web", "L4", "2025-04-05"),
            ("cxl:CX3", "CX3", "order_cancelled", "cash", D("-10.00"), SKU, "web", "L4", "2025-04-05"),
        ]  # fmt: skip
        lines = con.execute(
            "select order_line_id, qty_cancelled, qty_shipped, net_revenue,"
            " cancellation_refund_amount from marts.fct_order_lines order by 1"
        ).fetchall()
        assert lines == [
            ("L1", 0, 3, D("60.00"), D("0.00")),
            ("L2", 2, 0, D("0.00"), D("30.00")),
            ("L3", 1, 0, D("0.00"), D("0.00")),
            ("L4", 1, 3, D("30.00"), D("10.00")),
        ]
        orders = con.execute(
            "select order_id, cancellation_refund_amount from marts.fct_orders order by 1"
        ).fetchall()
        assert orders == [("O1", D("30.00")), ("O2", D("20.00")), ("O3", D("10.00"))]
        margin = con.execute(
            "select sum(sales), sum(refunds), sum(cogs), sum(gross_margin)"
            " from marts.fct_gross_margin_daily"
        ).fetchone()
        assert margin == (D("90.00"), D("20.00"), D("36.00"), D("34.00"))
        leakage = con.execute(
            "select sum(refunds_without_received_return), sum(total) from marts.fct_margin_leakage"
        ).fetchone()
        assert leakage == (D("20.00"), D("20.00"))
        assert con.execute("select count(*) from marts.fct_return_liabilities").fetchone() == (0,)
        tieout = con.execute("select distinct difference from marts.fct_inventory_gl_tieout")
        assert tieout.fetchall() == [(D("0.00"),)]
        # the Finance page's refunds paid: return and cancellation refunds apart
        paid = finance.refunds_paid(con, Filters())
        assert paid.rows() == [
            ("return refunds (sales_returns)", 1, 20.0),
            ("cancellation refunds (units never shipped)", 3, 60.0),
        ]
        april_5 = finance.refunds_paid(con, Filters(start=_day(5), end=_day(5)))
        assert [r[1:] for r in april_5.rows()] == [(0, 0.0), (1, 10.0)]
    finally:
        con.close()


def _day(day: int):
    from datetime import date

    return date(2025, 4, day)


def test_week_figures_match_the_hand_computation(week_db):
    assert_week_figures(week_db)


def test_late_cancellations_moved_step_one_figures(late_cancellations):
    """Step one really differed: without CX1 and CX3, cash was 150 - 20 - 20 = 110.00."""
    assert late_cancellations["step_one"] == D("110.00")


def test_incremental_after_late_cancellations_gives_the_hand_figures(late_cancellations):
    assert_week_figures(late_cancellations["incremental_db"])
    assert_week_figures(late_cancellations["full_db"])


def test_incremental_after_late_cancellations_equals_full_refresh(late_cancellations):
    from tests.dbt.test_inventory import CLOCK_DEPENDENT

    differing = tables_differing(
        late_cancellations["incremental_db"], late_cancellations["full_db"], skip=CLOCK_DEPENDENT
    )
    assert differing == []
