"""Stock update latency, staleness against the clock and oversold units attributed
to the stale node (issue 20), on a hand-made scenario built by dbt.

One day, 2025-03-01 (UTC), SKU1, three nodes:
- DC1 (own_dc, serves web) sends a live file without recorded times; the file
  arrived (mtime) at 12:10, ten minutes after its newest event:
    d1 po_receipt 10 at 08:00, d2 po_receipt 5 at 12:00  -> latency by arrival: 250, 10 min
- 3PL1 (3pl, serves amazon) sends a back-filled history with recorded_at (the file
  arrives today, long after):
    t1 po_receipt 4 at 09:00 recorded 09:30              -> 30 min
    t2 damaged 3 at 10:00 recorded 16:00 (a delayed batch) -> 360 min
- STORE1 (store) is an import without any times: s1 po_receipt 2 at 07:00 -> unknown.
Orders: A1 amazon 3 units at 11:00: 3PL1 truly had 4 - 3 = 1 available, so 2 units
are oversold; the 3 damaged units had happened (10:00) but were not reported until
16:00, so the stale node is 3PL1, it explains least(2, 3) = 2 units, and its last
report before the order was t1's at 09:30: 90 minutes stale. W1 web 1 unit at 12:05
is covered (DC1: 15) and has no stale node.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from opsledger.build import build_warehouse
from opsledger.ingest.pipeline import run_ingest
from tests.ingest.ingest_helpers import csv_text, jsonl, product, write

DAY = "2025-03-01"
MASTER = ["event_id", "event_type", "event_time", "source", "sku", "category", "product_class",
          "unit_cost", "list_price", "supplier_id", "returnable", "node_id", "node_type",
          "channels", "channel_id", "safety_buffer_units", "lead_time_days", "name"]  # fmt: skip
STOCK = ["event_id", "event_type", "event_time", "source", "node_id", "sku", "quantity", "po_id",
         "unit_cost", "from_state", "to_state", "reason_code", "submission_id",
         "recorded_at"]  # fmt: skip
T = f"{DAY}T%s:00Z"


def _master() -> list[dict]:
    base = {"event_time": "2025-01-01T00:00:00Z", "source": "erp"}
    loc = {**base, "event_type": "location_upserted"}
    chn = {**base, "event_type": "channel_upserted", "safety_buffer_units": "0"}
    return [
        {**base, "event_id": "m1", "event_type": "supplier_upserted", "supplier_id": "SUP1",
         "lead_time_days": "10"},
        {**product("m2", "SKU1"), "event_time": base["event_time"]},
        {**loc, "event_id": "m3", "node_id": "DC1", "node_type": "own_dc", "channels": "web"},
        {**loc, "event_id": "m4", "node_id": "3PL1", "node_type": "3pl", "channels": "amazon"},
        {**loc, "event_id": "m5", "node_id": "STORE1", "node_type": "store", "channels": "store"},
        {**chn, "event_id": "m6", "channel_id": "web"},
        {**chn, "event_id": "m7", "channel_id": "amazon"},
        {**chn, "event_id": "m8", "channel_id": "store"},
    ]  # fmt: skip


def _stock(eid: str, node: str, at: str, qty: int, event_type: str = "po_receipt", **kw) -> dict:
    row = {"event_id": eid, "event_type": event_type, "event_time": T % at, "source": "wms",
           "node_id": node, "sku": "SKU1", "quantity": str(qty)}  # fmt: skip
    if event_type == "po_receipt":
        row.update(po_id="PO1", unit_cost="2.50")
    row.update(kw)
    return row


def _order(eid: str, channel: str, at: str, qty: int) -> dict:
    return {
        "event_id": eid, "event_type": "order_placed", "event_time": T % at, "source": "shop",
        "order_id": f"O-{eid}", "order_line_id": f"L-{eid}", "channel": channel, "sku": "SKU1",
        "quantity": qty, "unit_price": 9.99, "currency": "GBP",
        "promised_by": f"{DAY}T23:00:00Z",
    }  # fmt: skip


def _set_mtime(path: Path, iso: str) -> None:
    ts = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    os.utime(path, (ts, ts))


def _build_freshness(home: Path, clock: str) -> list[tuple]:
    os.environ["OPSLEDGER_CLOCK"] = clock
    try:
        built = build_warehouse(home, select=["fct_node_freshness"])
    finally:
        del os.environ["OPSLEDGER_CLOCK"]
    assert built.dbt.error is None and not built.dbt.failures, built.dbt.failures
    con = duckdb.connect(str(built.build_db), read_only=True)
    try:
        return con.execute(
            "select node_id, feed_mode, data_as_of, minutes_since_last_event, is_stale, "
            "feed_note from marts.fct_node_freshness order by node_id"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("freshness")
    write(home, "master/master.csv", csv_text(MASTER, _master()))
    dc1 = write(
        home,
        "stock/dc1/dc1-live.csv",
        csv_text(STOCK, [_stock("d1", "DC1", "08:00", 10), _stock("d2", "DC1", "12:00", 5)]),
    )
    _set_mtime(dc1, T % "12:10")
    tpl = [
        _stock("t1", "3PL1", "09:00", 4, recorded_at=T % "09:30"),
        _stock("t2", "3PL1", "10:00", 3, "damaged", recorded_at=T % "16:00",
               from_state="available", to_state="damaged"),
    ]  # fmt: skip
    write(home, "stock/3pl/3pl-history.csv", csv_text(STOCK, tpl))
    write(
        home, "stock/store1/store-import.csv", csv_text(STOCK, [_stock("s1", "STORE1", "07:00", 2)])
    )
    write(home, "orders/orders.jsonl", jsonl([_order("A1", "amazon", "11:00", 3),
                                              _order("W1", "web", "12:05", 1)]))  # fmt: skip
    summary = run_ingest(home)
    assert summary.quarantined == 0, summary.per_file
    os.environ["OPSLEDGER_CLOCK"] = f"{DAY}T20:00:00"
    try:
        built = build_warehouse(home, full_refresh=True)
    finally:
        del os.environ["OPSLEDGER_CLOCK"]
    assert built.dbt.error is None, built.dbt.error
    mine = [
        r
        for r in built.dbt.failures
        if any(m in r["name"] for m in ("latency", "freshness", "stale", "order_lines", "dim_node"))
    ]
    assert mine == [], mine
    return home


@pytest.fixture
def db(scenario: Path):
    con = duckdb.connect(str(scenario / "build.duckdb"), read_only=True)
    yield con
    con.close()


def test_latency_backfill_live_and_unknown(db) -> None:
    rows = db.execute(
        "select event_id, latency_basis, latency_minutes, is_live_arrival "
        "from marts.fct_stock_update_latency order by event_id"
    ).fetchall()
    assert rows == [
        ("d1", "arrival", 250.0, True),  # live file: arrival 12:10 - 08:00
        ("d2", "arrival", 10.0, True),
        ("s1", None, None, False),  # an import without times: unknown, never months
        ("t1", "recorded_at", 30.0, False),  # back-fill: the source's own clock
        ("t2", "recorded_at", 360.0, False),
    ]


def test_latency_percentiles_per_node(db) -> None:
    rows = db.execute(
        "select node_id, latency_p50_minutes, events_with_latency, latency_p95_target_minutes, "
        "is_latency_breached from marts.fct_node_freshness order by node_id"
    ).fetchall()
    # p50 of two values is their mean; 3PL1's target is its own SLA (domain node_slas: 420)
    assert rows == [
        ("3PL1", 195.0, 2, 420, False),
        ("DC1", 130.0, 2, 15, True),  # p95 = 10 + 0.95 * 240 = 238 > 15
        ("STORE1", None, 0, 60, False),
    ]
    (p95,) = db.execute(
        "select latency_p95_minutes from marts.fct_node_freshness where node_id = 'DC1'"
    ).fetchone()
    assert p95 == pytest.approx(238.0)


def test_staleness_against_a_fixed_live_clock(db) -> None:
    rows = db.execute(
        "select node_id, feed_mode, minutes_since_last_event, stale_after_minutes, is_stale "
        "from marts.fct_node_freshness order by node_id"
    ).fetchall()
    # clock 20:00, newest event 12:00 (8 h < backfill_after 24 h): live, judged at 20:00.
    # last report: 3PL1 16:00 (recorded), DC1 12:10 (arrival), STORE1 07:00 (event time)
    assert rows == [
        ("3PL1", "live", 240, 720, False),
        ("DC1", "live", 470, 180, True),
        ("STORE1", "live", 780, 240, True),
    ]


def test_backfill_says_when_data_ends(scenario: Path) -> None:
    rows = _build_freshness(scenario, "2025-03-10T00:00:00")
    # nine days after the last event: a back-fill judged at its own end (12:00)
    end = datetime(2025, 3, 1, 12, 0)
    note = "historical back-fill: data ends 2025-03-01"
    assert rows == [
        ("3PL1", "backfill", end, 0, False, note),
        ("DC1", "backfill", end, 0, False, note),
        ("STORE1", "backfill", end, 300, True, note),
    ]


def test_oversold_units_attributed_to_the_stale_node(db) -> None:
    rows = db.execute(
        "select order_line_id, qty_oversold, stale_node_id, stale_node_minutes_at_order, "
        "qty_oversold_stale_node from marts.fct_order_lines order by order_line_id"
    ).fetchall()
    assert rows == [("L-A1", 2, "3PL1", 90, 2), ("L-W1", 0, None, None, 0)]


def test_fulfillment_query_by_stale_node(db) -> None:
    from opsledger.app.filters import Filters
    from opsledger.app.queries.staleness import oversold_by_stale_node

    got = oversold_by_stale_node(db, Filters()).to_dicts()
    assert got == [
        {
            "node_id": "3PL1",
            "oversold_lines": 1,
            "oversold_units": 2,
            "units_oversold_by_stale_stock": 2,
            "median_hours_stale": 1.5,
            "max_hours_stale": 1.5,
        }
    ]
    assert oversold_by_stale_node(db, Filters(channels=("web",))).is_empty()


def test_write_back_changes_no_staleness_nor_history(scenario: Path, tmp_path: Path) -> None:
    """A write-back adjustment (an event with a submission_id, dated now) is not a
    node's feed: the freshness at a fixed clock and the days before it stay."""
    before = _build_freshness(scenario, f"{DAY}T20:00:00")
    con = duckdb.connect(str(scenario / "build.duckdb"), read_only=True)
    try:
        daily = con.execute("select * from marts.fct_stock_daily order by all").fetchall()
    finally:
        con.close()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    adj = _stock("wb1", "STORE1", "07:00", 1, "adjustment", from_state="available",
                 to_state="adjustment", reason_code="shrink", submission_id="SUB-1",
                 source="opsledger-app")  # fmt: skip
    adj["event_time"] = now
    # the write-back export's reserved folder: only there may a row carry a submission_id
    write(scenario, "stock/_writeback/sub-1.csv", csv_text(STOCK, [adj]))
    assert run_ingest(scenario).loaded == 1
    os.environ["OPSLEDGER_CLOCK"] = f"{DAY}T20:00:00"
    try:
        built = build_warehouse(scenario)
    finally:
        del os.environ["OPSLEDGER_CLOCK"]
    assert built.dbt.error is None
    after = _build_freshness(scenario, f"{DAY}T20:00:00")
    assert after == before
    con = duckdb.connect(str(scenario / "build.duckdb"), read_only=True)
    try:
        history = con.execute(
            "select * from marts.fct_stock_daily where date <= ? order by all", [DAY]
        ).fetchall()
        (is_wb,) = con.execute(
            "select is_write_back from marts.fct_stock_update_latency where event_id = 'wb1'"
        ).fetchone()
    finally:
        con.close()
    assert is_wb is True
    assert history == [r for r in daily if r[0] <= datetime(2025, 3, 1).date()]
