"""Fault test: 200 random sequences of valid-but-hostile events (negative stock,
double dispositions, out-of-order and backdated events, over-shipments, refunds
above what was paid, conflicting duplicates, extreme values within the domain's
bounds) through ingest and refresh.

A full dbt build per sequence would cost ~200 x 40 s on two busy cores, so the
sequences are delivered in BATCHES refreshes of SEQUENCES / BATCHES sequences each
(every sequence its own landing files, so a refresh ingests tens of hostile
sequences at once). After every refresh: it published (anomalies are warnings,
never pipeline errors), the counts reconcile (per file and in total, and the raw
rows published equal the rows loaded so far), and every negative stock figure is
listed in fct_ledger_exceptions.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

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

SEQUENCES = 200
BATCHES = 5
SKUS = ("SKU1", "SKU2", "SKU-E")
NODES = ("DC1", "DC2")
MAX_UNITS = 1_000_000
MAX_MONEY = 10_000_000


def _qty(rng: random.Random) -> int:
    # mostly small, sometimes at the bound
    return MAX_UNITS if rng.random() < 0.05 else rng.randint(1, 2000)


def hostile_sequence(home: Path, n: int, rng: random.Random) -> str:
    """Write sequence n's events as its own landing files; returns its kind."""
    sid = f"f{n}"
    sku, node = rng.choice(SKUS), rng.choice(NODES)
    day = rng.randint(1, 27)
    kind = rng.choice(
        (
            "over_ship", "shrink", "double_disposition", "ship_before_receipt", "extreme_receipt",
            "quality_release_without_stock", "transfer_never_arrives", "refund_above_paid",
            "conflicting_duplicate", "backdated_receipt", "over_cancel",
        )
    )  # fmt: skip
    stock: list[dict] = []
    returns: list[dict] = []
    orders: list[dict] = []
    if kind == "over_ship":
        stock.append(stock_row(f"{sid}-ship", "shipped", at(day), node_id=node, sku=sku,
                               quantity=_qty(rng), order_id=f"O-{sid}", order_line_id=f"L-{sid}",
                               shipment_id=f"SH-{sid}", from_state="available"))  # fmt: skip
    elif kind == "shrink":
        stock.append(stock_row(f"{sid}-shrink", "adjustment", at(day), node_id=node, sku=sku,
                               quantity=_qty(rng), from_state="available", to_state="adjustment",
                               reason_code="shrink"))  # fmt: skip
    elif kind == "double_disposition":
        line = f"RL-{sid}"
        flow = return_rows(f"R-{sid}", line, "L1", 1, min(day, 20))
        # disposed twice (portal and a lead), maybe before it was received
        flow.append(dict(flow[4], event_id=f"{line}-disp-again", event_time=at(min(day, 20) + 2)))
        if rng.random() < 0.3:
            flow = [e for e in flow if e["event_type"] != "return_received"]
        returns += flow
    elif kind == "ship_before_receipt":
        q = _qty(rng)
        stock += [
            stock_row(f"{sid}-ship", "shipped", at(day), node_id=node, sku=sku, quantity=q,
                      order_id=f"O-{sid}", order_line_id=f"L-{sid}", shipment_id=f"SH-{sid}",
                      from_state="available"),
            stock_row(f"{sid}-recv", "po_receipt", at(day + 1), node_id=node, sku=sku,
                      quantity=q, po_id=f"PO-{sid}", unit_cost="2.50"),
        ]  # fmt: skip
    elif kind == "extreme_receipt":
        cost = MAX_MONEY if rng.random() < 0.5 else round(rng.uniform(0, 1000), 4)
        stock.append(stock_row(f"{sid}-recv", "po_receipt", at(day), node_id=node, sku=sku,
                               quantity=MAX_UNITS, po_id=f"PO-{sid}", unit_cost=cost))  # fmt: skip
    elif kind == "quality_release_without_stock":
        stock.append(stock_row(f"{sid}-release", "status_change", at(day), node_id=node, sku=sku,
                               quantity=_qty(rng), from_state="quality_hold",
                               to_state="available", reason_code="quality_release"))  # fmt: skip
    elif kind == "transfer_never_arrives":
        stock.append(stock_row(f"{sid}-out", "transfer_out", at(day), node_id=node,
                               to_node_id="DC2" if node == "DC1" else "DC1", sku=sku,
                               quantity=_qty(rng), transfer_id=f"T-{sid}"))  # fmt: skip
    elif kind == "refund_above_paid":
        returns.append({"event_id": f"{sid}-refund", "event_type": "refund_issued",
                        "event_time": at(day), "source": "portal", "return_id": "R1",
                        "return_line_id": "RL1", "order_line_id": "L1",
                        "amount": rng.choice((MAX_MONEY, 1000.0)), "currency": "GBP"})  # fmt: skip
    elif kind == "conflicting_duplicate":
        # the base receipt s1 again, with another quantity
        stock.append(stock_row("s1", "po_receipt", at(2), node_id="DC1", sku="SKU1",
                               quantity=rng.randint(41, 999), po_id="PO1", unit_cost="2.50"))  # fmt: skip
    elif kind == "backdated_receipt":
        stock.append(stock_row(f"{sid}-old", "po_receipt", at(1, rng.randint(0, 9)),
                               node_id=node, sku=sku, quantity=_qty(rng), po_id=f"PO-{sid}",
                               unit_cost=round(rng.uniform(0.5, 50), 2)))  # fmt: skip
    elif kind == "over_cancel":
        orders += [
            order_row(f"{sid}-o", f"L-{sid}", 2, at(day), sku=sku),
            {"event_id": f"{sid}-c", "event_type": "order_cancelled", "event_time": at(day, 11),
             "source": "shop", "order_id": f"O-L-{sid}", "order_line_id": f"L-{sid}",
             "quantity": rng.randint(3, 50), "reason_code": "customer_request"},
        ]  # fmt: skip
    if stock:
        add_stock(home, f"fault-{n:03d}", stock)
    if returns:
        add_jsonl(home, "returns", f"fault-{n:03d}", returns)
    if orders:
        add_jsonl(home, "orders", f"fault-{n:03d}", orders)
    return kind


def test_200_hostile_sequences_never_stop_publication(tmp_path):
    home = tmp_path / "home"
    write_base(home)
    base = run_refresh(home)
    assert base.published, base.to_dict()
    loaded = base.ingest["loaded"]
    rng = random.Random(16)
    kinds: dict[str, int] = {}
    per_batch = SEQUENCES // BATCHES
    for batch in range(BATCHES):
        for n in range(batch * per_batch, (batch + 1) * per_batch):
            kind = hostile_sequence(home, n, rng)
            kinds[kind] = kinds.get(kind, 0) + 1
        result = run_refresh(home)
        assert result.published, (batch, result.status, result.message, result.dbt_failures,
                                  result.gate_failures)  # fmt: skip
        assert not result.dbt_failures and not result.gate_failures
        ing = result.ingest
        assert ing["rows_read"] == ing["loaded"] + ing["duplicates"] + ing["quarantined"]
        loaded += ing["loaded"]
        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        try:
            (events_total,) = con.execute(
                "select events_total from ops.publications order by published_at desc limit 1"
            ).fetchone()
            assert events_total == loaded  # every loaded row is in the publication
            unreconciled = con.execute(
                "select count(*) from raw.ingest_files "
                "where rows_read <> loaded + duplicates + quarantined"
            ).fetchone()[0]
            assert unreconciled == 0
            unlisted = con.execute(
                "select count(*) from marts.fct_stock_on_hand h where quantity < 0 and not exists "
                "(select 1 from marts.fct_ledger_exceptions e where e.exception_type = "
                "'negative_on_hand' and e.sku = h.sku and e.node_id = h.node_id "
                "and e.state = h.state)"
            ).fetchone()[0]
            assert unlisted == 0
        finally:
            con.close()
    assert sum(kinds.values()) == SEQUENCES
    assert len(kinds) == 11  # every kind of hostility was exercised
