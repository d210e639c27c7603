"""One bad event never stops the warehouse: the issue's reproductions on a small
hand-written operation (tests/opsledger/hostile_home.py), then the same after
`revoke`. Figures worked out by hand from the base:

SKU1 at DC1: 40 received, 3 shipped (L1), 1 returned (RL1) and restocked to
resale_ready -> available 37, resale_ready 1. SKU2: 5 at DC1, none at DC2.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from opsledger import writeback as wb
from opsledger.events import revocation_log, revoke_events, show_event
from opsledger.refresh import run_refresh
from tests.opsledger.hostile_home import (
    add_jsonl,
    add_stock,
    at,
    order_row,
    return_rows,
    stock_row,
    write_base,
)

pytestmark = pytest.mark.slow

# the order lines' figures (their bookkeeping, load time and the build that wrote
# them, moves with any new event)
ORDER_LINES = "select * exclude (last_ingested_at, _build_id) from marts.fct_order_lines order by 2"


def rows(home: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def on_hand(home: Path) -> dict[tuple[str, str, str], int]:
    return {
        (s, n, st): q
        for s, n, st, q in rows(
            home, "select sku, node_id, state, quantity from marts.fct_stock_on_hand"
        )
    }


def exceptions(home: Path) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in rows(
            home,
            "select exception_type || ':' || coalesce(return_line_id, sku || '@' || node_id || "
            "'/' || coalesce(state, '')), quantity, value, event_ids, is_open, age_days "
            "from marts.fct_ledger_exceptions",
        )
    }


@pytest.fixture(scope="module")
def base_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("hostile-base")
    write_base(home)
    result = run_refresh(home)
    assert result.published, result.to_dict()
    return home


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "builds", ".readers"))
    return target


def test_base_has_no_exceptions(base_home):
    hand = {("SKU1", "DC1", "available"): 37, ("SKU1", "DC1", "resale_ready"): 1,
            ("SKU1", "DC2", "available"): 10, ("SKU2", "DC1", "available"): 5}  # fmt: skip
    assert {k: v for k, v in on_hand(base_home).items() if v} == hand
    assert exceptions(base_home) == {}


def test_anomalies_publish_are_listed_and_revoke_takes_them_back(base_home, tmp_path):
    home = copy_home(base_home, tmp_path / "home")
    orders_before = rows(home, ORDER_LINES)
    # a shrink of 1000 where DC1 holds 37; a shipment of SKU2 from DC2 booked on the
    # 6th before its receipt on the 8th; a second disposition of the disposed RL1
    add_stock(home, "hostile", [
        stock_row("h-shrink", "adjustment", at(6), node_id="DC1", sku="SKU1", quantity=1000,
                  from_state="available", to_state="adjustment", reason_code="shrink"),
        stock_row("h-early-ship", "shipped", at(6), node_id="DC2", sku="SKU2", quantity=4,
                  order_id="O-LX", order_line_id="LX", shipment_id="SHX", from_state="available"),
        stock_row("h-late-receipt", "po_receipt", at(8), node_id="DC2", sku="SKU2", quantity=4,
                  po_id="PO9", unit_cost="2.50"),
        # a later good event: 7 more SKU1 into DC2
        stock_row("good-receipt", "po_receipt", at(9), node_id="DC2", sku="SKU1", quantity=7,
                  po_id="PO10", unit_cost="2.50"),
    ])  # fmt: skip
    second = dict(return_rows("R1", "RL1", "L1", 1, 5)[4], event_id="h-disp-2", event_time=at(7))
    add_jsonl(home, "returns", "hostile", [second])
    result = run_refresh(home)
    assert result.published, result.to_dict()
    assert not result.gate_failures and not result.dbt_failures
    warned = {w["name"] for w in result.dbt_warnings}
    assert {"assert_stock_daily_never_negative", "assert_return_quantities_consistent"} <= warned
    # the warning names its rows
    negative = next(
        w for w in result.dbt_warnings if w["name"] == "assert_stock_daily_never_negative"
    )
    assert negative["rows"] and all(r["quantity"] < 0 for r in negative["rows"])

    stock = on_hand(home)
    assert stock[("SKU1", "DC1", "available")] == 37 - 1000
    assert stock[("SKU1", "DC2", "available")] == 17  # the later good event is visible
    assert stock.get(("SKU2", "DC2", "available"), 0) == 0  # -4 on the 6th and 7th, then received
    assert stock[("SKU1", "DC1", "returned")] == -1  # disposed twice, received once
    assert stock[("SKU1", "DC1", "resale_ready")] == 2
    found = exceptions(home)
    cost = Decimal("2.50")
    assert found == {
        # (quantity, value, events, open, age in days to the newest stock day, the 9th)
        "negative_on_hand:SKU1@DC1/available": (963, 963 * cost, "h-shrink", True, 3),
        "negative_on_hand:SKU1@DC1/returned": (1, 1 * cost, "h-disp-2", True, 2),
        "exit_before_receipt:SKU2@DC2/available":
            (4, 4 * cost, "h-early-ship,h-late-receipt", False, 2),
        "over_disposed_return:RL1": (1, 1 * cost, "RL1-disp,RL1-recv,h-disp-2", True, 2),
    }  # fmt: skip
    # nothing else changed: the order lines are those of the base
    assert rows(home, ORDER_LINES) == orders_before

    # the admin takes the shrink and the double disposition back
    wb.users_add(home, "root", "admin", "root-password")
    wb.users_add(home, "lead", "warehouse_lead", "lead-password")
    with pytest.raises(wb.PermissionDenied):
        revoke_events(home, wb.get_user(home, "lead"), ["h-shrink"], "typo")
    cli = subprocess.run(
        [sys.executable, "-m", "opsledger.cli", "events", "revoke", "h-shrink", "h-disp-2",
         "--reason", "keyed 1000 instead of 10", "--user", "root", "--home", str(home), "--json"],
        env={**os.environ, "OPSLEDGER_PASSWORD": "root-password"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert {r["event_id"] for r in json.loads(cli.stdout)["revoked"]} == {"h-shrink", "h-disp-2"}
    log = revocation_log(home)
    assert [(e["event_id"], e["actor"], e["reason"]) for e in log] == [
        ("h-shrink", "root", "keyed 1000 instead of 10"),
        ("h-disp-2", "root", "keyed 1000 instead of 10"),
    ]
    # the revoked events delivered again stay out (a duplicate of the revoked one)
    (home / "landing" / "stock" / "hostile-again.csv").write_bytes(
        (home / "landing" / "stock" / "hostile.csv").read_bytes() + b"\n"
    )
    again = run_refresh(home)
    assert again.published, again.to_dict()
    assert again.full_refresh  # rebuilt what the revoked events touched
    stock = on_hand(home)
    assert stock[("SKU1", "DC1", "available")] == 37
    assert stock.get(("SKU1", "DC1", "returned"), 0) == 0
    assert stock[("SKU1", "DC1", "resale_ready")] == 1
    assert stock[("SKU1", "DC2", "available")] == 17
    assert set(exceptions(home)) == {"exit_before_receipt:SKU2@DC2/available"}
    shown = show_event(home, "h-shrink")
    assert shown["state"] == "revoked"
    assert shown["quarantine"][-1]["reason"] == "revoked"
    assert shown["revocations"][0]["actor"] == "root"
    assert shown["touched"]["stock_movements"] == []
    early = show_event(home, "h-early-ship")
    assert early["state"] == "loaded"
    assert early["touched"]["ledger_exceptions"] == [
        "exit_before_receipt:SKU2:DC2:available:2024-03-06"
    ]
    assert early["touched"]["stock_movements"][0]["quantity"] == 4


def test_absurd_values_are_quarantined_and_the_bounds_fit_the_marts(base_home, tmp_path):
    """The reproduction's 100000000000000-unit adjustment is out of range; events at
    the domain's bounds (1,000,000 units at 10,000,000 per unit) build and publish
    with exact figures."""
    home = copy_home(base_home, tmp_path / "home")
    add_stock(home, "absurd", [
        stock_row("absurd", "adjustment", at(6), node_id="DC1", sku="SKU1",
                  quantity=100_000_000_000_000, from_state="adjustment", to_state="available",
                  reason_code="found"),
        stock_row("max-receipt", "po_receipt", at(6), node_id="DC2", sku="SKU-E",
                  quantity=1_000_000, po_id="PO-MAX", unit_cost="10000000"),
        stock_row("max-ship", "shipped", at(7), node_id="DC2", sku="SKU-E", quantity=1_000_000,
                  order_id="O-LMAX", order_line_id="LMAX", shipment_id="SH-MAX",
                  from_state="available"),
    ])  # fmt: skip
    # SKU-E has no other stock: its weighted-average cost is the receipt's 10,000,000
    big = order_row("max-order", "LMAX", 1_000_000, at(6), sku="SKU-E")
    big["unit_price"] = 10_000_000
    add_jsonl(home, "orders", "max", [big])
    result = run_refresh(home)
    assert result.published, result.to_dict()
    assert result.ingest["quarantined"] == 1
    q = rows(home, "select event_id, reason, detail from raw.quarantine where event_id = 'absurd'")
    assert q == [("absurd", "out_of_range", "quantity=100000000000000 > 1000000")]
    # 1e6 units x 1e7 = 1e13, received and shipped at that cost
    moved = dict(
        rows(home, "select event_id, value from marts.fct_stock_movements "
                   "where event_id in ('max-receipt', 'max-ship')")
    )  # fmt: skip
    assert moved == {"max-receipt": Decimal("10000000000000.00"),
                     "max-ship": Decimal("10000000000000.00")}  # fmt: skip
    line = rows(home, "select qty_shipped, net_revenue from marts.fct_order_lines "
                      "where order_line_id = 'LMAX'")  # fmt: skip
    assert line == [(1_000_000, Decimal("10000000000000.00"))]
