"""The Shopify adapter: documented payload shapes -> events -> ingest; bad payloads quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ingest.pipeline import run_ingest
from opsledger.importers import import_shopify

FIXTURES = Path(__file__).parent / "fixtures"


def _events(home: Path) -> list[dict]:
    cur = duckdb.connect().execute(
        f"SELECT * FROM read_parquet('{home}/landing/*/*.parquet', union_by_name = true)"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def test_shopify_payloads_to_events_and_ingest(tmp_path: Path) -> None:
    s = import_shopify(tmp_path, FIXTURES / "shopify").to_dict()
    assert s["reconciles"] and s["quarantined"] == 0
    assert s["row_kinds"]["orders"] == 3 and s["row_kinds"]["returns"] == 1
    w = s["events_written"]
    assert w["order_placed"] == 4 and w["shipped"] == 3
    assert w["payment_captured"] == 2  # capture + sale; the authorization moves no money
    assert w["order_cancelled"] == 1  # order #1002 (its refund's restock_type 'cancel' is the same)
    events = _events(tmp_path)
    placed = {e["order_line_id"]: e for e in events if e["event_type"] == "order_placed"}
    assert placed["466157049"]["discount"] == "10.00"
    assert placed["466157049"]["channel"] == "shopify-web"
    # refund with restock_type 'return': money, and the goods back to available at the location
    paid = [e for e in events if e["event_type"] == "refund_paid"]
    assert [(p["order_line_id"], p["amount"]) for p in paid] == [("466157049", "189.0")]
    # Return with dispositions: RESTOCKED 1 -> restock, PROCESSING_REQUIRED 1 -> received only
    disp = [e for e in events if e["event_type"] == "disposition_decided"]
    assert sorted(d["disposition"] for d in disp) == ["restock", "restock"]
    reasons = {e["reason_code"] for e in events if e["event_type"] == "return_requested"}
    assert "wrong_size" in reasons
    costs = {e["sku"]: e["unit_cost"] for e in events if e["event_type"] == "product_upserted"}
    assert costs == {"IPOD2008GREEN": "25.00", "IPOD2008RED": "25.00"}
    count = next(e for e in events if e["event_type"] == "cycle_count")
    assert count["counted_qty"] == "5" and count["node_id"] == "shopify-location-655441491"
    result = run_ingest(tmp_path).to_dict()
    assert result["quarantined"] == 0
    assert result["loaded"] == result["rows_read"] == sum(w.values())
    # idempotent: the same payloads again write nothing new
    again = import_shopify(tmp_path, FIXTURES / "shopify").to_dict()
    assert again["files"] == s["files"] and again["files_unchanged"] == len(s["files"])
    assert run_ingest(tmp_path).to_dict()["loaded"] == 0


def test_malformed_payloads_are_quarantined(tmp_path: Path) -> None:
    s = import_shopify(tmp_path, FIXTURES / "shopify_bad").to_dict()
    assert s["reconciles"]
    assert s["row_kinds"] == {"orders": 1}  # only order #6 is whole
    assert s["quarantine_reasons"] == {
        "invalid_quantity": 1, "malformed_json": 1, "missing_field": 2,
        "timestamp_without_zone": 1, "unknown_line_item": 1, "unknown_payload": 1,
        "unsupported_currency": 1,
    }  # fmt: skip
    lines = (tmp_path / s["quarantine_file"]).read_text().splitlines()
    assert len(lines) == s["quarantined"]
    assert {json.loads(x)["reason"] for x in lines} == set(s["quarantine_reasons"])
    result = run_ingest(tmp_path).to_dict()
    assert result["quarantined"] == 0 and result["loaded"] == sum(s["events_written"].values())
