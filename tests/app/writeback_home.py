"""A copy of the real published home with inspected return lines, for write-back tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from opsledger.core.readonly import connect_read_only
from opsledger.refresh import run_refresh


def query(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of `sql` on the home's published warehouse (read-only, as the app reads it)."""
    con = connect_read_only(home / "warehouse.duckdb")
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def inspected_copy(real_home: Path, home: Path) -> Path:
    """`real_home` copied to `home`, with its received return lines inspected and
    published, so the disposition form has open lines."""
    shutil.copytree(real_home, home)
    land_inspections(home)
    assert run_refresh(home).published
    return home


def land_inspections(home: Path) -> None:
    """Inspect the received, uninspected return lines (a returns-portal file), so the
    disposition form has open lines."""
    rows = query(
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
