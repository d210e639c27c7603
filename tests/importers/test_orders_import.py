"""The order-line importer: mapping, classification, matching, ids, idempotence, ingest."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from opsledger.importers import MappingError, import_orders, load_mapping
from opsledger.importers.mapping import OrderMapping, parse_mapping
from opsledger.ingest.pipeline import run_ingest
from opsledger.refresh import run_refresh

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "online_retail.yml"
FIXTURE = Path(__file__).parent / "fixtures" / "retail_small.csv"
REAL = Path("/work/shared/datasets/online_retail/online_retail.csv.gz")


def _events(home: Path) -> list[dict]:
    con = duckdb.connect()
    cur = con.execute(
        f"SELECT * FROM read_parquet('{home}/landing/*/*.parquet', union_by_name = true)"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[dict]]:
    home = tmp_path_factory.mktemp("home")
    summary = import_orders(home, FIXTURE, MAPPING)
    return home, summary.to_dict(), _events(home)


def test_mapping_parses_and_rejects_bad_mappings() -> None:
    m = load_mapping(MAPPING)
    assert m.name == "online_retail" and m.timezone == "Europe/London"
    assert m.columns["invoice"] == "InvoiceNo" and m.credit_prefixes == ("C",)
    assert m.non_product_codes["BANK CHARGES"] == "bank_charges"
    assert m.write_off_rules[-1].pattern == ""  # a catch-all rule always ends the list
    base = {"name": "x", "columns": {"invoice": "a", "sku": "b", "quantity": "c",
                                     "unit_price": "d", "time": "e"}}  # fmt: skip
    assert parse_mapping(base).channel_constant == "online"
    for bad in (
        {**base, "name": "Bad Name"},
        {**base, "columns": {"invoice": "a"}},
        {**base, "columns": {**base["columns"], "colour": "z"}},
        {**base, "currency": "XYZ"},
        {**base, "returns": {"reason_code": "nope"}},
        {**base, "write_offs": {"rules": [{"pattern": "(", "reason_code": "shrink"}]}},
        {**base, "costs": {"ratio_of_list_price": {"default": 0.5}}},  # no note: undocumented
        {**base, "costs": {"ratio_of_list_price": {"default": 0}, "note": "x"}},
        {**base, "costs": {"ratio": 0.5, "note": "x"}},
    ):
        with pytest.raises(MappingError):
            parse_mapping(bad)


def test_every_row_is_accounted_for(imported) -> None:
    _, s, _ = imported
    assert s["rows_read"] == 17
    assert s["duplicate_rows"] == 1  # the repeated WHITE METAL LANTERN row
    assert s["non_product"] == {"bad_debt": 1, "bank_charges": 1, "discount": 1, "postage": 1}
    assert s["quarantine_reasons"] == {
        "invalid_quantity": 1, "missing_sku": 1, "negative_price": 1,
        "nonexistent_local_time": 1,  # 2011-03-27 01:30 does not exist in London
    }  # fmt: skip
    assert s["row_kinds"] == {"sale": 4, "return": 2, "write_off": 1, "found": 1}
    assert s["reconciles"]
    assert (
        s["rows_read"]
        == s["event_rows"] + s["non_product_rows"] + s["duplicate_rows"] + s["quarantined"]
    )


def test_events_and_times(imported) -> None:
    _, s, events = imported
    by_type = s["events_written"]
    assert by_type["order_placed"] == by_type["shipped"] == 4
    placed = [e for e in events if e["event_type"] == "order_placed"]
    first = next(e for e in placed if e["sku"] == "85123A" and e["order_id"] == "536365")
    assert first["event_time"] == "2010-12-01T08:26:00+00:00"  # GMT in winter
    summer = next(e for e in placed if e["order_id"] == "536367")
    assert summer["event_time"] == "2011-06-01T10:00:00+01:00"  # BST
    assert summer["customer_id"] is None and summer["channel"] == "online"
    products = {e["sku"]: e for e in events if e["event_type"] == "product_upserted"}
    assert set(products) == {"85123A", "71053", "22633"}  # no fee codes as products
    assert {p["product_class"] for p in products.values()} == {"unknown"}
    assert (
        products["85123A"]["unit_cost"] == "0.0000" and products["85123A"]["list_price"] == "2.5500"
    )
    # the export has no cost and the mapping no assumption: unknown, not a zero cost
    assert {p["cost_basis"] for p in products.values()} == {"unknown"}
    assert s["skus_by_cost_basis"] == {"unknown": 3}
    receipts = [e for e in events if e["event_type"] == "po_receipt"]
    assert receipts and all(e["unit_cost"] is None for e in receipts)  # inferred: unknown cost
    writeoff = next(
        e for e in events if e["event_type"] == "adjustment" and e["reason_code"] != "found"
    )
    assert (writeoff["from_state"], writeoff["to_state"], writeoff["reason_code"]) == (
        "available", "scrap", "write_off_damaged",
    )  # fmt: skip
    assert all(e["source"] == "import-inferred" for e in events if e["event_type"] == "po_receipt")


def test_cancellation_matching_rule(imported) -> None:
    _, s, events = imported
    # C536368 (customer 17850, 5 x 85123A): the 6 units of 536365 are the earliest
    # earlier line with enough quantity; C536369 (customer 13047) has no earlier sale
    assert (s["matched_returns"], s["unmatched_returns"]) == (1, 1)
    req = [e for e in events if e["event_type"] == "return_requested"]
    assert len(req) == 1 and req[0]["order_id"] == "536365" and req[0]["quantity"] == "5"
    line = next(
        e["order_line_id"] for e in events
        if e["event_type"] == "order_placed" and e["order_id"] == "536365" and e["sku"] == "85123A"
    )  # fmt: skip
    assert req[0]["order_line_id"] == line
    refund = next(e for e in events if e["event_type"] == "refund_paid")
    assert refund["amount"] == "12.7500"
    cancelled = [e for e in events if e["event_type"] == "order_cancelled"]
    assert [(c["order_id"], c["quantity"]) for c in cancelled] == [("C536369", "2")]


def test_stock_never_negative(imported) -> None:
    _, _, events = imported
    moves = sorted(
        (e["event_time"], e["sku"], e["from_state"], e["to_state"], int(e["quantity"]))
        for e in events
        if e["from_state"] in ("available",) or e["to_state"] in ("available",)
    )
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE m AS SELECT CAST(t AS TIMESTAMPTZ) t, sku, f, tt, q FROM "
        "(SELECT unnest($r, recursive := true))",
        {"r": [{"t": t, "sku": k, "f": f, "tt": to, "q": q} for t, k, f, to, q in moves]},
    )
    (low,) = con.execute(
        "SELECT min(lvl) FROM (SELECT sum(CASE WHEN tt = 'available' THEN q ELSE -q END) "
        "OVER (PARTITION BY sku ORDER BY t, CASE WHEN tt = 'available' THEN 0 ELSE 1 END "
        "ROWS UNBOUNDED PRECEDING) AS lvl FROM m)"
    ).fetchone()
    assert low == 0


def test_idempotent_and_deterministic(imported, tmp_path: Path) -> None:
    home, s, events = imported
    again = import_orders(home, FIXTURE, MAPPING).to_dict()
    assert again["files"] == s["files"] and again["files_unchanged"] == len(s["files"])
    other = tmp_path / "other"
    third = import_orders(other, FIXTURE, MAPPING).to_dict()
    for rel in third["files"]:
        assert (other / rel).read_bytes() == (home / rel).read_bytes(), rel
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids))


def test_import_then_ingest_reconciles(tmp_path: Path) -> None:
    home = tmp_path / "h"
    summary = import_orders(home, FIXTURE, MAPPING)
    first = run_ingest(home).to_dict()
    assert first["rows_read"] == sum(summary.events_written.values())
    assert first["loaded"] == first["rows_read"] and first["quarantined"] == 0
    import_orders(home, FIXTURE, MAPPING)  # same file again: nothing new
    second = run_ingest(home).to_dict()
    assert second["loaded"] == 0 and second["rows_read"] == 0
    # the same rows under another file name: all duplicates by event_id
    copy = tmp_path / "copy.csv"
    shutil.copy(FIXTURE, copy)
    with copy.open("a") as f:
        f.write("536399,71053,WHITE METAL LANTERN,1,2011-06-06 10:00:00,3.39,17850,UK\n")
    import_orders(home, copy, MAPPING)
    third = run_ingest(home).to_dict()
    assert third["loaded"] >= 2 and third["duplicates"] > 0
    assert third["rows_read"] == third["loaded"] + third["duplicates"] + third["quarantined"]
    qfile = home / summary.quarantine_file
    reasons = [json.loads(line)["reason"] for line in qfile.read_text().splitlines()]
    assert sorted(reasons) == sorted(summary.quarantine_reasons)


def test_cost_ratio_assumption_per_category(tmp_path: Path) -> None:
    raw = yaml.safe_load(MAPPING.read_text())
    raw["costs"] = {
        "ratio_of_list_price": {"unknown": 0.4, "default": 0.9},
        "note": "test: 40% of the list price",
    }
    s = import_orders(tmp_path, FIXTURE, parse_mapping(raw)).to_dict()
    products = {e["sku"]: e for e in _events(tmp_path) if e["event_type"] == "product_upserted"}
    # category 'unknown' takes its own ratio: 0.4 x 2.55 = 1.02, 0.4 x 1.85 = 0.74
    assert (products["85123A"]["unit_cost"], products["85123A"]["cost_basis"]) == (
        "1.0200", "assumed",
    )  # fmt: skip
    assert products["22633"]["unit_cost"] == "0.7400"
    assert s["skus_by_cost_basis"] == {"assumed": 3}
    assert s["cost_note"] == "test: 40% of the list price"


COSTED = """order,sku,qty,price,cost,at,customer
1001,X,6,2.00,1.00,2011-01-03 10:00:00,c1
1002,X,4,2.00,1.50,2011-01-04 10:00:00,c2
1003,Y,1,5.00,,2011-01-04 11:00:00,c1
1004,Z,2,3.00,abc,2011-01-04 12:00:00,c1
C1005,X,-1,2.00,,2011-01-05 10:00:00,c2
"""


def _costed_mapping(**extra) -> OrderMapping:
    return parse_mapping(
        {
            "name": "costed",
            "currency": "GBP",
            "time_format": "%Y-%m-%d %H:%M:%S",
            "columns": {"invoice": "order", "sku": "sku", "quantity": "qty",
                        "unit_price": "price", "time": "at", "unit_cost": "cost",
                        "customer": "customer"},
            **extra,
        }
    )  # fmt: skip


def test_cost_column_gives_known_costs_that_reach_cogs(tmp_path: Path) -> None:
    """A cost column: X's cost is known, Y's unknown; COGS by hand in the warehouse."""
    export = tmp_path / "costed.csv"
    export.write_text(COSTED)
    home = tmp_path / "home"
    s = import_orders(home, export, _costed_mapping()).to_dict()
    assert s["quarantine_reasons"] == {"invalid_cost": 1}  # 'abc' is no cost
    products = {e["sku"]: e for e in _events(home) if e["event_type"] == "product_upserted"}
    # quantity-weighted mean of the cost column: (6 x 1.00 + 4 x 1.50) / 10 = 1.20
    assert (products["X"]["unit_cost"], products["X"]["cost_basis"]) == ("1.2000", "known")
    assert products["Y"]["cost_basis"] == "unknown"
    result = run_refresh(home)
    assert result.published, result.to_dict()
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT order_id, net_revenue, cogs, cost_basis, cost_known, gross_margin "
        "FROM marts.fct_order_lines ORDER BY order_id"
    ).fetchall()
    # inferred receipts carry no cost, so every unit of X ships at the known 1.20:
    # 6 x 1.20 = 7.20 against 12.00, 4 x 1.20 = 4.80 against 8.00; Y is unknown
    # (C1005 returns 1 unit of 1002: refunds and returns are not deducted per line)
    assert [
        (r[0], float(r[1]), None if r[2] is None else float(r[2]), r[3], r[4]) for r in rows
    ] == [
        ("1001", 12.0, 7.2, "ledger", True),
        ("1002", 8.0, 4.8, "ledger", True),
        ("1003", 5.0, None, "unknown", False),
    ]
    assert [None if r[5] is None else float(r[5]) for r in rows] == [4.8, 3.2, None]
    # margin over known-cost lines 8.00 / 20.00 = 40%, coverage 20.00 / 25.00 = 80%
    known, coverage = con.execute(
        "SELECT sum(gross_margin) / sum(net_revenue) FILTER (WHERE cost_known), "
        "sum(net_revenue) FILTER (WHERE cost_known) / sum(net_revenue) FROM marts.fct_order_lines"
    ).fetchone()
    assert (float(known), float(coverage)) == (0.4, 0.8)
    con.close()


@pytest.mark.skipif(
    os.environ.get("OPSLEDGER_ACCEPTANCE") != "1" or not REAL.exists(),
    reason="acceptance run: set OPSLEDGER_ACCEPTANCE=1 (needs the online_retail dataset)",
)
def test_real_online_retail(tmp_path: Path) -> None:
    s = import_orders(tmp_path, REAL, MAPPING).to_dict()
    assert s["rows_read"] == 541_909 and s["reconciles"]
    assert s["duplicate_rows"] == 5_268
    assert round(s["values"]["all_rows"], 2) == 9_747_747.93
    assert s["row_kinds"]["write_off"] == 1_336
