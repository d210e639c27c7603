"""Each row-level rule of the domain model quarantines with its reason; good rows load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opsledger.ingest.reasons import Reason, catalogue
from opsledger.ingest.validation import transition_rows
from opsledger.models.domain import load_domain
from tests.ingest.ingest_helpers import (
    STOCK_HEADER,
    csv_text,
    ingest,
    jsonl,
    order,
    quarantine,
    query,
    reasons,
    stock,
    write,
    write_master,
)


def test_transition_table_fills_defaults_and_dispositions():
    rows = {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in transition_rows(load_domain())}
    assert rows[("po_receipt", "", "", "")] == ("supplier", "available")
    assert rows[("putaway", "resale_ready", "", "")] == ("resale_ready", "available")
    assert rows[("disposition_decided", "", "", "refurbish")] == ("returned", "quality_hold")
    # adjustment has no default and from=available fits two transitions: ambiguous
    assert ("adjustment", "available", "", "") not in rows
    assert ("adjustment", "", "", "") not in rows


def test_catalogue_lists_every_reason():
    listed = {r["reason"] for r in catalogue()}
    assert listed == {r.value for r in Reason}
    assert all(r["description"] for r in catalogue())


def test_stock_rules(tmp_path):
    write_master(tmp_path)
    future = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [
        stock("ok1"),  # line 2
        stock("e1", "teleported"),  # 3
        stock("e2", quantity=""),  # 4 missing quantity
        stock("e3", quantity="abc"),  # 5
        stock("e4", quantity="0"),  # 6
        stock("e5", quantity="-3"),  # 7
        stock("e6", event_time="2024-03-01T10:00:00"),  # 8 no zone
        stock("e7", event_time=future),  # 9
        stock("e8", to_state="nirvana"),  # 10 enum
        stock("e9", to_state="reserved"),  # 11 not an allowed transition
        stock("e10", "damaged", reason_code="changed_mind"),  # 12 wrong kind of code
        stock("e11", quantity="2.5"),  # 13 not an int
        stock("ok2", "damaged", from_state="returned", reason_code="damage"),  # 14
        stock("ok3", "po_receipt", to_state="quality_hold"),  # 15
        stock("ok4", "cycle_count", quantity="", counted_qty=12, system_qty=10),  # 16
        stock("ok5", "cycle_count", quantity="", counted_qty=7, system_qty=10),  # 17
        stock("ok6", "cycle_count", quantity="", counted_qty=10, system_qty=10),  # 18
        stock("e12", "cycle_count", counted_qty=7, system_qty=10, from_state="adjustment"),  # 19
        stock("e13", "adjustment", from_state="available", to_state="scrap"),  # 20 no reason
        stock("ok7", "adjustment", from_state="available", to_state="scrap", reason_code="shrink"),
        stock("e14", event_time="2024-03-01"),  # 22 a date is not a timestamp
    ]
    write(tmp_path, "stock/s.csv", csv_text(STOCK_HEADER, rows))
    s = ingest(tmp_path)
    stock_file = next(f for f in s.per_file if f["source"] == "stock")
    assert stock_file["rows_read"] == len(rows)
    assert stock_file["loaded"] == 7
    assert reasons(tmp_path) == {
        3: Reason.UNKNOWN_EVENT_TYPE,
        4: Reason.MISSING_REQUIRED,
        5: Reason.INVALID_TYPE,
        6: Reason.NOT_POSITIVE,
        7: Reason.NOT_POSITIVE,
        8: Reason.TIMESTAMP_WITHOUT_ZONE,
        9: Reason.FUTURE_TIMESTAMP,
        10: Reason.INVALID_ENUM,
        11: Reason.INVALID_TRANSITION,
        12: Reason.UNKNOWN_REASON_CODE,
        13: Reason.INVALID_TYPE,
        19: Reason.INVALID_TRANSITION,
        20: Reason.MISSING_REQUIRED,
        22: Reason.TIMESTAMP_WITHOUT_ZONE,
    }
    details = {line: detail for _, line, _, detail, _ in quarantine(tmp_path)}
    assert details[4] == "quantity"
    assert details[20] == "reason_code"
    assert all(not retry for *_, retry in quarantine(tmp_path))
    got = {
        r[0]: r[1:]
        for r in query(
            tmp_path,
            "SELECT event_id, from_state, to_state, quantity FROM raw.stock_events",
        )
    }
    assert got["ok1"] == ("supplier", "available", 5)  # default filled
    assert got["ok2"] == ("returned", "damaged", 5)
    assert got["ok3"] == ("supplier", "quality_hold", 5)
    assert got["ok4"] == ("adjustment", "available", 2)  # found stock
    assert got["ok5"] == ("available", "adjustment", 3)  # shrink
    assert got["ok6"] == (None, None, None)  # count matched: no movement


def test_order_and_return_rules(tmp_path):
    write_master(tmp_path)
    orders = [
        order("o1"),
        order("o2", currency="XYZ"),
        order("o3", unit_price=-1),
        order("o4", promised_by="2024-03-03 10:00"),
        order("o5", customer_trusted="maybe"),
        {"event_id": "o6", "event_type": "order_cancelled", "event_time": "2024-03-01T11:00:00+01:00",
         "source": "shop", "order_id": "O1", "reason_code": "customer_request"},
        {"event_id": "o7", "event_type": "order_cancelled", "event_time": "2024-03-01T11:00:00Z",
         "source": "shop", "order_id": "O1", "reason_code": "bored"},
    ]  # fmt: skip
    write(tmp_path, "orders/o.jsonl", jsonl(orders))
    ret = {
        "event_type": "disposition_decided", "event_time": "2024-03-05T10:00:00Z",
        "source": "portal", "return_id": "R1", "return_line_id": "RL1", "node_id": "DC1",
        "quantity": 1,
    }  # fmt: skip
    returns = [
        {**ret, "event_id": "r1", "sku": "SKU1", "disposition": "restock"},
        {**ret, "event_id": "r2", "sku": "SKU-E", "disposition": "restock"},  # electronics
        {**ret, "event_id": "r3", "sku": "SKU-E", "disposition": "refurbish"},
        {**ret, "event_id": "r4", "sku": "SKU1", "disposition": "burn"},
    ]
    write(tmp_path, "returns/r.jsonl", jsonl(returns))
    ingest(tmp_path)
    q = {(f, line): r for f, line, r, _, _ in quarantine(tmp_path)}
    assert q == {
        ("orders/o.jsonl", 2): Reason.INVALID_ENUM,
        ("orders/o.jsonl", 3): Reason.NEGATIVE,
        ("orders/o.jsonl", 4): Reason.TIMESTAMP_WITHOUT_ZONE,
        ("orders/o.jsonl", 5): Reason.INVALID_TYPE,
        ("orders/o.jsonl", 7): Reason.UNKNOWN_REASON_CODE,
        ("returns/r.jsonl", 2): Reason.DISPOSITION_NOT_ALLOWED,
        ("returns/r.jsonl", 4): Reason.INVALID_ENUM,
    }
    states = query(
        tmp_path,
        "SELECT event_id, from_state, to_state FROM raw.returns_events ORDER BY event_id",
    )
    assert states == [("r1", "returned", "resale_ready"), ("r3", "returned", "quality_hold")]
    (t,) = query(tmp_path, "SELECT event_time FROM raw.orders_events WHERE event_id = 'o6'")[0]
    assert t == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
