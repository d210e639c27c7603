"""A copy of the real published home with inspected return lines, for write-back tests."""

from __future__ import annotations

import json
from pathlib import Path

from opsledger.readonly import connect_read_only


def _q(home: Path, sql: str) -> list[tuple]:
    con = connect_read_only(home / "warehouse.duckdb")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def land_inspections(home: Path) -> None:
    """Inspect the received, uninspected return lines (a returns-portal file), so the
    disposition form has open lines."""
    rows = _q(
        home,
        "select return_id, return_line_id, received_node_id, sku, qty_received "
        "from marts.fct_return_lines where received_at is not null and inspected_at is null",
    )
    assert rows, "the simulated data has no received, uninspected return lines"
    with (home / "landing" / "returns" / "test-inspections.jsonl").open("w") as f:
        for i, (rid, rlid, node, sku, qty) in enumerate(rows):
            event = {
                "event_id": f"test-inspection-{i}",
                "event_type": "return_inspected",
                "event_time": "2026-01-02T00:00:00Z",
                "source": "test",
                "return_id": rid,
                "return_line_id": rlid,
                "node_id": node,
                "sku": sku,
                "quantity": qty,
                "condition_grade": "B",
            }
            f.write(json.dumps(event) + "\n")
