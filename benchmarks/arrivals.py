"""New data arriving at a published home, as the watch test and benchmark need it:
a WMS file of 'found' stock adjustments, and the publication's latest build id."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

FIELDS = ["event_id", "event_type", "event_time", "source", "node_id", "sku", "quantity",
          "from_state", "to_state", "reason_code", "recorded_at"]  # fmt: skip


def latest_build(home: Path) -> str:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            "select build_id from ops.publications order by published_at desc limit 1"
        ).fetchone()[0]
    finally:
        con.close()


def drop_found_stock(home: Path, folder: str, name: str, skus: list[str], n: int = 100) -> Path:
    """`n` 'found' adjustments of one unit at DC1 over `skus`, written as a WMS would: a
    temporary name first (ingest ignores it), renamed when complete."""
    target = home / "landing" / "stock" / folder / f"{name}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        for i in range(n):
            writer.writerow({
                "event_id": f"{name}-{i}", "event_type": "adjustment",
                "event_time": "2025-12-31T20:00:00Z", "source": "wms-dc1", "node_id": "DC1",
                "sku": skus[i % len(skus)], "quantity": 1, "from_state": "adjustment",
                "to_state": "available", "reason_code": "found",
                "recorded_at": "2025-12-31T20:01:00Z",
            })  # fmt: skip
    tmp.replace(target)
    return target
