"""A small hand-written operation, and valid-but-hostile events to add to it.

The base: two SKUs at two nodes, receipts, an order shipped, a return received,
inspected and restocked, and its refund. Every figure is small enough to work
out by hand; tests append hostile events to the landing area and refresh.
"""

from __future__ import annotations

from pathlib import Path

from tests.ingest.ingest_helpers import (
    MASTER_HEADER,
    STOCK_HEADER,
    csv_text,
    jsonl,
    master_rows,
    product,
    write,
)

T = "2024-03-0{day}T{hour:02d}:00:00Z"


def at(day: int, hour: int = 10) -> str:
    return f"2024-03-{day:02d}T{hour:02d}:00:00Z"


def stock_row(eid: str, event_type: str, time: str, **fields: object) -> dict:
    row = {"event_id": eid, "event_type": event_type, "event_time": time, "source": "wms"}
    row.update({k: str(v) for k, v in fields.items()})
    return row


def order_row(eid: str, line: str, qty: int, time: str, sku: str = "SKU1") -> dict:
    return {
        "event_id": eid, "event_type": "order_placed", "event_time": time, "source": "shop",
        "order_id": f"O-{line}", "order_line_id": line, "channel": "web", "sku": sku,
        "quantity": qty, "unit_price": 10.0, "currency": "GBP",
        "promised_by": at(28),
    }  # fmt: skip


def return_rows(rid: str, line: str, order_line: str, qty: int, day: int) -> list[dict]:
    base = {"source": "portal", "return_id": rid, "return_line_id": line}
    return [
        {**base, "event_id": f"{line}-req", "event_type": "return_requested",
         "event_time": at(day, 9), "order_id": f"O-{order_line}", "order_line_id": order_line,
         "sku": "SKU1", "quantity": qty, "reason_code": "changed_mind"},
        {**base, "event_id": f"{line}-auth", "event_type": "return_authorized",
         "event_time": at(day, 10)},
        {**base, "event_id": f"{line}-recv", "event_type": "return_received",
         "event_time": at(day, 11), "node_id": "DC1", "sku": "SKU1", "quantity": qty},
        {**base, "event_id": f"{line}-insp", "event_type": "return_inspected",
         "event_time": at(day, 12), "node_id": "DC1", "sku": "SKU1", "quantity": qty,
         "condition_grade": "A"},
        {**base, "event_id": f"{line}-disp", "event_type": "disposition_decided",
         "event_time": at(day, 13), "node_id": "DC1", "sku": "SKU1", "quantity": qty,
         "disposition": "restock"},
        {**base, "event_id": f"{line}-refund", "event_type": "refund_issued",
         "event_time": at(day, 14), "order_line_id": order_line, "amount": 10.0 * qty,
         "currency": "GBP"},
    ]  # fmt: skip


def write_base(home: Path) -> None:
    """SKU1: 40 received at DC1 (cost 2.50), 10 at DC2; order L1 of 3 shipped from
    DC1; 1 unit returned (R1) and restocked. On hand after: DC1 38, DC2 10."""
    master = [*master_rows(), product("m7", "SKU2")]
    write(home, "master/base.csv", csv_text(MASTER_HEADER, master))
    stock = [
        stock_row("s1", "po_receipt", at(2), node_id="DC1", sku="SKU1", quantity=40,
                  po_id="PO1", unit_cost="2.50"),
        stock_row("s2", "po_receipt", at(2), node_id="DC2", sku="SKU1", quantity=10,
                  po_id="PO2", unit_cost="2.50"),
        stock_row("s3", "po_receipt", at(2), node_id="DC1", sku="SKU2", quantity=5,
                  po_id="PO3", unit_cost="2.50"),
        stock_row("s4", "reserved", at(3, 11), node_id="DC1", sku="SKU1", quantity=3,
                  order_id="O-L1", order_line_id="L1"),
        stock_row("s5", "shipped", at(3, 12), node_id="DC1", sku="SKU1", quantity=3,
                  order_id="O-L1", order_line_id="L1", shipment_id="SH1"),
    ]  # fmt: skip
    write(home, "stock/base.csv", csv_text(STOCK_HEADER, stock))
    write(home, "orders/base.jsonl", jsonl([order_row("o1", "L1", 3, at(3))]))
    write(home, "returns/base.jsonl", jsonl(return_rows("R1", "RL1", "L1", 1, 5)))


def add_stock(home: Path, name: str, rows: list[dict]) -> Path:
    return write(home, f"stock/{name}.csv", csv_text(STOCK_HEADER, rows))


def add_jsonl(home: Path, source: str, name: str, rows: list[dict]) -> Path:
    return write(home, f"{source}/{name}.jsonl", jsonl(rows))
