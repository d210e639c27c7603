"""Small hand-written landing files in the contract shapes, and query helpers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb

from opsledger.ingest.pipeline import IngestSummary, run_ingest

T0 = "2024-03-01T10:00:00Z"

MASTER_HEADER = [
    "event_id", "event_type", "event_time", "source", "sku", "category", "product_class",
    "unit_cost", "list_price", "supplier_id", "returnable", "node_id", "node_type",
    "channels", "channel_id", "lead_time_days", "name",
]  # fmt: skip

STOCK_HEADER = [
    "event_id", "event_type", "event_time", "source", "node_id", "sku", "quantity", "po_id",
    "unit_cost", "from_state", "to_state", "counted_qty", "system_qty", "reason_code",
    "order_id", "order_line_id", "shipment_id", "to_node_id", "transfer_id", "note",
]  # fmt: skip


def csv_text(header: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    return out.getvalue()


def product(eid: str, sku: str, product_class: str = "standard", supplier: str = "SUP1") -> dict:
    return {
        "event_id": eid, "event_type": "product_upserted", "event_time": T0, "source": "erp",
        "sku": sku, "category": "toys", "product_class": product_class, "unit_cost": "2.50",
        "list_price": "9.99", "supplier_id": supplier, "returnable": "true",
    }  # fmt: skip


def master_rows() -> list[dict]:
    base = {"event_time": T0, "source": "erp"}
    return [
        {**base, "event_id": "m1", "event_type": "supplier_upserted", "supplier_id": "SUP1",
         "lead_time_days": "10", "name": "Acme"},
        product("m2", "SKU1"),
        product("m3", "SKU-E", "electronics"),
        {**base, "event_id": "m4", "event_type": "location_upserted", "node_id": "DC1",
         "node_type": "own_dc", "channels": "web|amazon"},
        {**base, "event_id": "m5", "event_type": "location_upserted", "node_id": "DC2",
         "node_type": "3pl", "channels": "web"},
        {**base, "event_id": "m6", "event_type": "channel_upserted", "channel_id": "web"},
    ]  # fmt: skip


def stock(eid: str, event_type: str = "po_receipt", **fields: object) -> dict:
    row = {"event_id": eid, "event_type": event_type, "event_time": T0, "source": "wms",
           "node_id": "DC1", "sku": "SKU1", "quantity": "5"}  # fmt: skip
    if event_type == "po_receipt":
        row.update(po_id="PO1", unit_cost="2.5")
    row.update({k: str(v) for k, v in fields.items()})
    return row


def order(eid: str, **fields: object) -> dict:
    row = {
        "event_id": eid, "event_type": "order_placed", "event_time": T0, "source": "shop",
        "order_id": "O1", "order_line_id": f"L-{eid}", "channel": "web", "sku": "SKU1",
        "quantity": 2, "unit_price": 9.99, "currency": "GBP",
        "promised_by": "2024-03-03T10:00:00Z",
    }  # fmt: skip
    row.update(fields)
    return row


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def write(home: Path, rel: str, content: str | bytes) -> Path:
    path = home / "landing" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def write_master(home: Path, rel: str = "master/products.csv") -> Path:
    return write(home, rel, csv_text(MASTER_HEADER, master_rows()))


def ingest(home: Path) -> IngestSummary:
    summary = run_ingest(home, memory_limit="512MB", threads=2)
    assert_reconciles(summary)
    return summary


def assert_reconciles(summary: IngestSummary) -> None:
    assert summary.rows_read == summary.loaded + summary.duplicates + summary.quarantined
    for f in summary.per_file:
        assert f["rows_read"] == f["loaded"] + f["duplicates"] + f["quarantined"], f


def query(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{home / 'raw.duckdb'}' AS r (READ_ONLY)")
        con.execute("USE r")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def quarantine(home: Path) -> list[tuple]:
    """(source_file, line_number, reason, detail, retryable), in file order."""
    return query(
        home,
        "SELECT source_file, line_number, reason, detail, retryable FROM raw.quarantine "
        "ORDER BY source_file, line_number",
    )


def reasons(home: Path) -> dict[int, str]:
    """line_number -> reason for the quarantine rows."""
    return {line: reason for _, line, reason, _, _ in quarantine(home)}
