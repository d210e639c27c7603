"""The Shopify adapter: documented payload shapes -> events -> ingest; bad payloads quarantined."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb

from opsledger.importers import import_shopify
from opsledger.ingest.pipeline import run_ingest
from opsledger.metrics.service import MetricsService
from opsledger.refresh import run_refresh

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
    assert [(p["order_line_id"], p["amount"]) for p in paid] == [
        ("466157049", "189.00")
    ]  # its transaction
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
    # only order #6 is whole; a product without variants is a known resource with
    # nothing to import (no longer an unknown payload)
    assert s["row_kinds"] == {"orders": 1, "products_without_events": 1}
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


CURRENT = FIXTURES / "shopify_current"


def _by(events: list[dict], etype: str) -> list[dict]:
    return sorted((e for e in events if e["event_type"] == etype), key=lambda e: e["event_id"])


def test_current_rest_payloads_by_shopify_definitions(tmp_path: Path) -> None:
    """Every rule pinned on shopify_current/, figures worked out by hand from its payloads."""
    s = import_shopify(tmp_path, CURRENT).to_dict()
    assert s["reconciles"] and s["quarantined"] == 0, s["quarantine_reasons"]
    # standalone resources in list and single-object shapes; fulfillment 2001 is also
    # embedded in order #1001: read once
    assert s["row_kinds"] == {
        "products": 2, "inventory_items": 1, "locations": 1, "orders": 3, "fulfillments": 1,
        "refunds": 1, "transactions": 3, "inventory_levels": 3, "fulfillments_without_events": 1,
    }  # fmt: skip
    events = _events(tmp_path)
    placed = {e["order_line_id"]: e for e in _by(events, "order_placed")}
    # the custom line item (no SKU, no variant) keeps its order under the placeholder SKU;
    # a line without SKU resolves its variant through the products file
    assert placed["12"]["sku"] == "shopify-custom-item" and placed["14"]["sku"] == "MUG"
    # discounts from total_discount (not discount_allocations); currency per order
    assert placed["11"]["discount"] is None and placed["13"]["discount"] == "1.50"
    assert (placed["11"]["currency"], placed["13"]["currency"]) == ("GBP", "EUR")
    # unfulfilled lines refunded (legacy_restock on the custom item, no_restock on #1002,
    # cancel on #1003's plates) are cancellations carrying the refund's money; never a return
    cancels = {e["order_line_id"]: e for e in _by(events, "order_cancelled")}
    assert {k: (c["quantity"], c["amount"], c["currency"]) for k, c in cancels.items()} == {
        "12": ("1", "2.00", "GBP"), "13": ("1", "10.50", "EUR"), "15": ("2", "16.00", "GBP"),
    }  # fmt: skip
    # fulfilled lines: return (4001) and legacy_restock (4004) bring goods back,
    # no_restock (4006) refunds 5.00 and the customer keeps the mug
    requested = {e["return_line_id"]: e["quantity"] for e in _by(events, "return_requested")}
    assert requested == {"4001": "1", "4004": "1", "4006": "1"}
    # allocated (subtotal + tax) and paid (successful refund transactions) both recorded:
    # 10.00 + 2.00 = 12.00 allocated, 11.00 paid (the failed 12.00 attempt paid nothing)
    issued = {e["return_line_id"]: e["amount"] for e in _by(events, "refund_issued")}
    paid = {e["return_line_id"]: e["amount"] for e in _by(events, "refund_paid")}
    assert issued == {"4001": "12.00", "4004": "10.00", "4006": "5.00"}
    assert paid == {"4001": "11.00", "4004": "10.00", "4006": "5.00"}
    received = {e["return_line_id"]: e["quantity"] for e in _by(events, "return_received")}
    assert received == {"4001": "1", "4004": "1"}
    # MUG at Leeds: -2 (03-02) +1 (03-05) -1 (03-06) +1 (03-07): one inferred receipt of
    # 2, cost unknown (omitted, never 0): the inventory item's 4.00 values the units
    receipts = _by(events, "po_receipt")
    assert [(r["sku"], r["quantity"], r["unit_cost"]) for r in receipts] == [("MUG", "2", None)]
    products = {e["sku"]: e for e in _by(events, "product_upserted")}
    assert {k: (p["unit_cost"], p["cost_basis"]) for k, p in products.items()} == {
        "MUG": ("4.00", "known"), "PLATE": ("0", "unknown"), "shopify-custom-item": ("0", "unknown"),
    }  # fmt: skip
    assert products["MUG"]["supplier_id"] == "Acme Pottery"
    location = _by(events, "location_upserted")[0]
    assert (location["node_id"], location["name"]) == ("shopify-location-1", "Leeds DC")
    # levels are snapshots: 04-01 system 1 (2 - 2 + 1 - 1 + 1), counted 5; 04-02 the same
    # 5 again is counted against 5, so it moves nothing; PLATE resolves through the
    # products file (no inventory_items record): 0 counted as 3
    counts = [(c["sku"], c["event_time"][:10], c["system_qty"], c["counted_qty"])
              for c in sorted(_by(events, "cycle_count"), key=lambda c: (c["sku"], c["event_time"]))]  # fmt: skip
    assert counts == [
        ("MUG", "2024-04-01", "1", "5"), ("MUG", "2024-04-02", "5", "5"),
        ("PLATE", "2024-04-01", "0", "3"),
    ]  # fmt: skip


def test_current_payloads_publish_with_cost_in_cogs(tmp_path: Path) -> None:
    import_shopify(tmp_path, CURRENT)
    result = run_refresh(tmp_path)
    assert result.published, result.to_dict()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    lines = con.execute(
        "SELECT order_line_id, qty_shipped, qty_cancelled, net_revenue, cogs, cost_basis, "
        "gross_margin FROM marts.fct_order_lines ORDER BY order_line_id"
    ).fetchall()
    # shipped at the inventory item's cost 4.00: 2 x 4.00 = 8.00 against 2 x 10.00;
    # 1 x 4.00 = 4.00 against 10.00; the unfulfilled lines were cancelled by their refunds
    # (refunds are not deducted per line: 11.00 + 5.00 paid on line 11 stay within 20.00)
    assert [(r[0], r[1], r[2], float(r[3]), float(r[4]), r[5], float(r[6])) for r in lines] == [
        ("11", 2, 0, 20.0, 8.0, "ledger", 12.0),
        ("12", 0, 1, 0.0, 0.0, "ledger", 0.0),
        ("13", 0, 1, 0.0, 0.0, "ledger", 0.0),
        ("14", 1, 0, 10.0, 4.0, "ledger", 6.0),
        ("15", 0, 2, 0.0, 0.0, "ledger", 0.0),
    ]
    (cogs,) = con.execute(
        "SELECT sum(cogs_value) FROM marts.fct_stock_movements WHERE event_type = 'shipped'"
    ).fetchone()
    assert float(cogs) == 12.0
    # on hand after the counts: MUG 5 (not 9: the second equal reading moves nothing)
    on_hand = dict(
        con.execute(
            "SELECT sku, sum(quantity) FROM marts.fct_stock_on_hand GROUP BY sku"
        ).fetchall()
    )
    assert on_hand == {"MUG": 5, "PLATE": 3}
    # PLATE's cost is unknown: its 3 units have no value (never 0); MUG 5 x 4.00 = 20.00,
    # so inventory value is 20.00 over 5 of 8 units
    values = dict(
        con.execute("SELECT sku, sum(value) FROM marts.fct_stock_on_hand GROUP BY sku").fetchall()
    )
    assert values == {"MUG": Decimal("20.00"), "PLATE": None}
    svc = MetricsService(con)
    assert svc.value("inventory_value").value == 20.0
    assert svc.value("inventory_cost_coverage").value == 5 / 8
    # the refunds of unfulfilled units are cancellation refunds, carried on the line
    # and the order, and posted Dr accounts_receivable / Cr cash (the payment reversed):
    # #1001 gift wrap 2.00 GBP, #1002 mug 10.50 EUR, #1003 plates 2 x 8.00 = 16.00 GBP
    refunded = con.execute(
        "SELECT order_line_id, cancellation_refund_amount FROM marts.fct_order_lines"
        " WHERE cancellation_refund_amount <> 0 ORDER BY 1"
    ).fetchall()
    assert [(r[0], float(r[1])) for r in refunded] == [("12", 2.0), ("13", 10.5), ("15", 16.0)]
    orders = con.execute(
        "SELECT order_id, cancellation_refund_amount FROM marts.fct_orders ORDER BY 1"
    ).fetchall()
    assert [(r[0], float(r[1])) for r in orders] == [("1001", 2.0), ("1002", 10.5), ("1003", 16.0)]
    journals = con.execute(
        "SELECT order_line_id, account, amount FROM marts.fct_gl_entries"
        " WHERE journal_type = 'cancellation_refund' ORDER BY order_line_id, line_number"
    ).fetchall()
    assert [(r[0], r[1], float(r[2])) for r in journals] == [
        ("12", "accounts_receivable", 2.0), ("12", "cash", -2.0),
        ("13", "accounts_receivable", 10.5), ("13", "cash", -10.5),
        ("15", "accounts_receivable", 16.0), ("15", "cash", -16.0),
    ]  # fmt: skip
    # #1002 (EUR) was paid 10.50 and refunded 10.50 for a mug never shipped: its
    # receivable and cash both come back to 0; no revenue, no sales_returns
    eur = con.execute(
        "SELECT account, sum(amount) FROM marts.fct_gl_entries"
        " WHERE order_line_id = '13' OR journal_id = 'pay:' || (SELECT event_id"
        " FROM raw.orders_events WHERE event_type = 'payment_captured' AND order_id = '1002')"
        " GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [(r[0], float(r[1])) for r in eur] == [("accounts_receivable", 0.0), ("cash", 0.0)]
    # return refunds (sales_returns) are the refund_paid events only: 11.00 + 10.00 + 5.00
    (returns,) = con.execute("SELECT sum(refunds) FROM marts.fct_gross_margin_daily").fetchone()
    assert float(returns) == 26.0
    con.close()
