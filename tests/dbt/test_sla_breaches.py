"""SLA breaches (issue 20) on a hand-written fortnight, every figure worked out by hand.

One SKU (V1), channel web, two nodes with their node types' SLAs (models/domain.yml):
DC1 (own_dc: refund within 5 days, exception within 2, disposition within 5, latency
p95 target 15 min) and STORE1 (store: stale after 240 min). March 2025, UTC; the
clock is pinned at 03-15 09:00.

  stock   R1 03-01 09:00 DC1 receipt 10, recorded 09:05    latency  5 min (<= 15)
          S1 03-01 07:00 STORE1 receipt 2, recorded 07:00   latency  0 min; STORE1's
                                                            last report
          L1 reserved and shipped 2 from DC1 on 03-02 (no recorded time: no latency)
          R2 03-15 08:00 DC1 receipt 1, recorded 08:30     latency 30 min (> 15)
  orders  L1 03-02 08:00, 2 units, from DC1
          L2 03-10 08:00, 3 units, to ship from DC1: never allocated (a backorder)
          L3 03-12 08:00, 1 unit, no node asked for: never allocated (a backorder
          no node has taken: unallocated_exception_within_days, 2 days)
  returns RL1 (1 of L1) received at DC1 03-03 10:00, restocked 03-04 10:00,
          refund paid 03-10 12:00
          RL2 (1 of L1) received at DC1 03-05 10:00: no refund, no disposition

The data's as-of time is its newest event, 03-15 08:00 (R2). The breaches:

  refund_overdue RL1       started 03-03 10:00, breached 03-08 10:00 (+5 d),
                           closed 03-10 12:00: waited 7 d 2 h = 10200 min, 3000 over
  refund_overdue RL2       started 03-05 10:00, breached 03-10 10:00, open:
                           9 d 22 h = 14280 min, 7080 over
  disposition_overdue RL2  the same clock (received, 5 days): 14280 min, 7080 over
                           (RL1's disposition took 1 day: no breach)
  exception_overdue L2     backorder opened 03-10 08:00, breached 03-12 08:00 (+2 d),
                           open: 5 d = 7200 min, 4320 over
  exception_overdue L3     no node: opened 03-12 08:00, breached 03-14 08:00, open:
                           3 d = 4320 min, 1440 over
  stock_latency DC1 03-15  the day's p95 of {30} = 30 > 15: 15 over; closed at the
                           day's end (03-01's p95 of {5} is within target)
  stale_feed STORE1        live feed (newest stock event 08:00, 1 h before the
                           clock): nothing since 03-01 07:00, 14 d 2 h = 20280 min
                           at the clock, SLA 240: breached 03-01 11:00, 20040 over

Open at the end of a day: breached on or before it and not closed by then:
  03-09: RL1's refund, STORE1's feed                                  -> 2
  03-15: RL2's refund and disposition, L2, L3, DC1's latency day, STORE1  -> 6
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from opsledger.build import build_warehouse
from opsledger.ingest.pipeline import run_ingest
from opsledger.metrics.service import MetricsService, Slice

SKU = "V1"
CLOCK = "2025-03-15T09:00:00"


def _t(day: int, hour: int, minute: int = 0) -> str:
    return f"2025-03-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def _ts(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute)


def _master() -> list[dict]:
    t0 = "2025-02-01T00:00:00Z"
    base = {"event_time": t0, "source": "erp"}
    return [
        {**base, "event_id": "m-sup", "event_type": "supplier_upserted", "supplier_id": "SUP1",
         "lead_time_days": 10},
        {**base, "event_id": "m-chn", "event_type": "channel_upserted", "channel_id": "web"},
        {**base, "event_id": "m-dc1", "event_type": "location_upserted", "node_id": "DC1",
         "node_type": "own_dc", "channels": "web"},
        {**base, "event_id": "m-st1", "event_type": "location_upserted", "node_id": "STORE1",
         "node_type": "store", "channels": "web"},
        {**base, "event_id": "m-prd", "event_type": "product_upserted", "source": "pim",
         "sku": SKU, "category": "toys", "product_class": "standard", "unit_cost": "10.00",
         "list_price": "25.00", "supplier_id": "SUP1", "returnable": True,
         "restock_allowed": True},
    ]  # fmt: skip


def _receipt(eid: str, node: str, at: str, qty: int, recorded: str) -> dict:
    return {"event_id": eid, "event_type": "po_receipt", "event_time": at, "source": "wms",
            "node_id": node, "sku": SKU, "quantity": qty, "po_id": f"PO-{eid}",
            "unit_cost": "10.00", "recorded_at": recorded}  # fmt: skip


def _line(line: str, day: int, qty: int) -> dict:
    return {"event_id": f"{line}-placed", "event_type": "order_placed", "event_time": _t(day, 8),
            "source": "web", "order_id": f"O-{line}", "order_line_id": line, "channel": "web",
            "sku": SKU, "quantity": qty, "unit_price": "25.00", "currency": "GBP",
            "promised_by": _t(day, 18), "node_id": "DC1"}  # fmt: skip


def _returned(rl: str, day: int) -> list[dict]:
    ids = {"return_id": f"RMA-{rl}", "return_line_id": rl, "source": "portal"}
    return [
        {**ids, "event_id": f"{rl}-req", "event_type": "return_requested",
         "event_time": _t(day, 8), "order_id": "O-L1", "order_line_id": "L1", "sku": SKU,
         "quantity": 1, "reason_code": "changed_mind"},
        {**ids, "event_id": f"{rl}-auth", "event_type": "return_authorized",
         "event_time": _t(day, 8, 30)},
        {**ids, "event_id": f"{rl}-rcv", "event_type": "return_received",
         "event_time": _t(day, 10), "node_id": "DC1", "sku": SKU, "quantity": 1},
    ]  # fmt: skip


# fmt: off
def scenario() -> dict[str, list[dict]]:
    ship = {"source": "wms", "node_id": "DC1", "sku": SKU, "quantity": 2, "order_id": "O-L1",
            "order_line_id": "L1"}  # fmt: skip
    disposed = {"return_id": "RMA-RL1", "return_line_id": "RL1", "source": "portal",
                "node_id": "DC1", "sku": SKU, "quantity": 1, "condition_grade": "A"}  # fmt: skip
    return {
        "master": _master(),
        "stock": [
            _receipt("R1", "DC1", _t(1, 9), 10, _t(1, 9, 5)),
            _receipt("S1", "STORE1", _t(1, 7), 2, _t(1, 7)),
            {**ship, "event_id": "L1-res", "event_type": "reserved", "event_time": _t(2, 9)},
            {**ship, "event_id": "L1-ship", "event_type": "shipped", "event_time": _t(2, 10),
             "shipment_id": "SH-L1"},
            _receipt("R2", "DC1", _t(15, 8), 1, _t(15, 8, 30)),
        ],
        "orders": [
            _line("L1", 2, 2),
            {"event_id": "L1-pay", "event_type": "payment_captured", "event_time": _t(2, 8, 5),
             "source": "psp", "order_id": "O-L1", "payment_id": "PAY-1", "amount": "50.00",
             "currency": "GBP"},
            _line("L2", 10, 3),
            {k: v for k, v in _line("L3", 12, 1).items() if k != "node_id"},
        ],
        "returns": [
            *_returned("RL1", 3),
            {**disposed, "event_id": "RL1-insp", "event_type": "return_inspected",
             "event_time": _t(4, 9)},
            {**disposed, "event_id": "RL1-disp", "event_type": "disposition_decided",
             "event_time": _t(4, 10), "disposition": "restock"},
            *_returned("RL2", 5),
        ],
        "finance": [
            {"event_id": "F1", "event_type": "refund_paid", "event_time": _t(10, 12),
             "source": "erp", "return_id": "RMA-RL1", "return_line_id": "RL1",
             "order_line_id": "L1", "amount": "25.00", "currency": "GBP"},
        ],
    }
# fmt: on


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    home = tmp_path_factory.mktemp("sla_breaches")
    events = scenario()
    for source, rows in events.items():
        folder = home / "landing" / source
        folder.mkdir(parents=True)
        (folder / "fortnight.jsonl").write_text(
            "".join(json.dumps(e) + "\n" for e in rows), encoding="utf-8"
        )
    summary = run_ingest(home)
    assert summary.quarantined == 0, summary.per_file
    assert summary.loaded == sum(len(rows) for rows in events.values())
    os.environ["OPSLEDGER_CLOCK"] = CLOCK
    try:
        built = build_warehouse(home, full_refresh=True)
    finally:
        del os.environ["OPSLEDGER_CLOCK"]
    assert built.dbt.error is None, built.dbt.error
    mine = [r for r in built.dbt.failures if "sla" in r["name"] or "dim_node" in r["name"]]
    assert mine == [], mine
    con = duckdb.connect(str(Path(built.build_db)), read_only=True)
    yield con
    con.close()


def test_breaches_worked_out_by_hand(db) -> None:
    rows = db.execute(
        "select breach_type, node_id, coalesce(return_line_id, order_line_id, node_id),"
        " started_at, breached_at, closed_at, is_open, sla_minutes, age_minutes,"
        " minutes_over_sla from marts.fct_sla_breaches order by breach_id"
    ).fetchall()
    assert rows == [
        ("disposition_overdue", "DC1", "RL2", _ts(5, 10), _ts(10, 10), None, True,
         7200, 14280.0, 7080.0),
        ("exception_overdue", "DC1", "L2", _ts(10, 8), _ts(12, 8), None, True,
         2880, 7200.0, 4320.0),
        ("exception_overdue", None, "L3", _ts(12, 8), _ts(14, 8), None, True,
         2880, 4320.0, 1440.0),
        ("refund_overdue", "DC1", "RL1", _ts(3, 10), _ts(8, 10), _ts(10, 12), False,
         7200, 10200.0, 3000.0),
        ("refund_overdue", "DC1", "RL2", _ts(5, 10), _ts(10, 10), None, True,
         7200, 14280.0, 7080.0),
        ("stale_feed", "STORE1", "STORE1", _ts(1, 7), _ts(1, 11), None, True,
         240, 20280.0, 20040.0),
        ("stock_latency", "DC1", "DC1", _ts(15, 0), _ts(15, 0), _ts(16, 0), False,
         15, 30.0, 15.0),
    ]  # fmt: skip


def _value(service: MetricsService, kpi: str, day: int, **filters: str) -> float | None:
    s = Slice(
        start=date(2025, 3, 1),
        end=date(2025, 3, day),
        filters={d: (v,) for d, v in filters.items()},
    )
    return service.value(kpi, s).value


def test_breach_kpis_at_the_end_of_a_day(db) -> None:
    service = MetricsService(db)
    assert _value(service, "open_sla_breaches", 9) == 2
    assert _value(service, "open_sla_breaches", 15) == 6
    # a channel filter keeps the lines' breaches, not the nodes' feeds
    assert _value(service, "open_sla_breaches", 15, channel="web") == 4
    assert _value(service, "open_sla_breaches", 15, node="DC1") == 4
    assert _value(service, "open_sla_breaches", 15, node="STORE1") == 1
    assert [_value(service, "refunds_overdue", d) for d in (7, 8, 9, 10, 15)] == [0, 1, 1, 1, 1]
    assert [_value(service, "exceptions_overdue", d) for d in (11, 12, 13, 14)] == [0, 1, 1, 2]
    assert [_value(service, "dispositions_overdue", d) for d in (9, 10, 15)] == [0, 1, 1]
    assert _value(service, "latency_breach_days", 15) == 1
    assert _value(service, "latency_breach_days", 14) == 0
    assert _value(service, "latency_breach_days", 15, node="STORE1") == 0
    for kpi in ("open_sla_breaches", "refunds_overdue", "latency_breach_days"):
        assert service.kpi(kpi).target == 0


def test_kpi_daily_agrees_on_single_days(db) -> None:
    service = MetricsService(db)
    daily = dict(
        db.execute(
            "select kpi || ' ' || cast(date as varchar), value from marts.kpi_daily"
            " where dimension = 'all' and kpi in ('open_sla_breaches', 'refunds_overdue')"
            " and date in ('2025-03-09', '2025-03-15')"
        ).fetchall()
    )
    assert daily == {
        "open_sla_breaches 2025-03-09": 2.0,
        "open_sla_breaches 2025-03-15": 6.0,
        "refunds_overdue 2025-03-09": 1.0,
        "refunds_overdue 2025-03-15": 1.0,
    }
    one_day = Slice(start=date(2025, 3, 9), end=date(2025, 3, 9))
    assert service.value("open_sla_breaches", one_day).value == 2


def test_overview_lists_the_open_breaches_longest_overdue_first(db) -> None:
    from opsledger.app.filters import Filters
    from opsledger.app.queries.overview import open_sla_breaches

    got = open_sla_breaches(db, Filters(end=date(2025, 3, 15)))
    assert got.select("breach_type", "node_id", "line").rows() == [
        ("stale_feed", "STORE1", None),
        ("disposition_overdue", "DC1", "RL2"),
        ("refund_overdue", "DC1", "RL2"),
        ("exception_overdue", "DC1", "L2"),
        ("exception_overdue", None, "L3"),
        ("stock_latency", "DC1", None),
    ]
    assert got["age_days"].to_list()[0] == pytest.approx(20280 / 1440)
    # the list is what the card counts: on 03-09 RL1's refund and STORE1's feed
    early = open_sla_breaches(db, Filters(end=date(2025, 3, 9)))
    assert sorted(early["breach_type"].to_list()) == ["refund_overdue", "stale_feed"]
