"""docs/contract.md rules, each pinned in every file format that carries it.

Unknown fields, money with more than 4 decimals and booleans other than
true/false behave the same in JSON Lines, CSV and Parquet: the row is
quarantined with its reason, the rest of the file loads, and counts reconcile.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opsledger.ingest.reasons import Reason
from tests.ingest.ingest_helpers import (
    csv_text,
    ingest,
    jsonl,
    order,
    quarantine,
    query,
    stock,
    write,
    write_master,
)

FORMATS = ("jsonl", "csv", "parquet")


def _write(home: Path, source: str, fmt: str, rows: list[dict]) -> str:
    """rows (text values; None = absent) as one landing file of `source` in `fmt`."""
    names = list(dict.fromkeys(k for r in rows for k in r))
    rel = f"{source}/rules.{fmt}"
    if fmt == "jsonl":
        write(home, rel, jsonl([{k: v for k, v in r.items() if v is not None} for r in rows]))
    elif fmt == "csv":
        write(home, rel, csv_text(names, [{k: v or "" for k, v in r.items()} for r in rows]))
    else:
        path = home / "landing" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        cols = {n: pa.array([r.get(n) for r in rows], pa.string()) for n in names}
        pq.write_table(pa.table(cols), path)
    return rel


def _outcome(home: Path, rel: str) -> dict[str, str]:
    """event_id -> reason of the file's quarantined rows."""
    return dict(
        query(
            home,
            "SELECT coalesce(event_id, json_extract_string(payload, '$.event_id')), reason "
            "FROM raw.quarantine WHERE source_file LIKE ?",
            [f"%{rel}"],
        )
    )


def _loaded(home: Path, table: str) -> set[str]:
    return {r[0] for r in query(home, f"SELECT event_id FROM raw.{table}")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_field_with_a_value_is_quarantined_in_every_format(tmp_path, fmt):
    write_master(tmp_path)
    rows = [
        {**stock("ok"), "colour": None},  # the unknown name without a value: nothing to lose
        {**stock("bad"), "colour": "red"},  # a value the contract has no field for
    ]
    if fmt == "csv":
        rows[0]["colour"] = ""
    rel = _write(tmp_path, "stock", fmt, rows)
    summary = ingest(tmp_path)
    quarantined = _outcome(tmp_path, rel)
    assert quarantined == {"bad": Reason.UNKNOWN_FIELD.value}
    assert _loaded(tmp_path, "stock_events") == {"ok"}
    detail = next(d for f, _, r, d, _ in quarantine(tmp_path) if f.endswith(rel))
    assert detail == "unknown fields: colour"
    stock_file = next(f for f in summary.per_file if f["source"] == "stock")
    assert (stock_file["rows_read"], stock_file["loaded"], stock_file["quarantined"]) == (2, 1, 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_money_with_more_than_4_decimals_is_quarantined_in_every_format(tmp_path, fmt):
    write_master(tmp_path)
    rows = [
        stock("four", unit_cost="12.1234"),
        stock("zeros", unit_cost="12.123400"),  # trailing zeros: still 4 places of value
        stock("five", unit_cost="12.12345"),  # the cast would round it to 12.1235
    ]
    rel = _write(tmp_path, "stock", fmt, rows)
    ingest(tmp_path)
    quarantined = _outcome(tmp_path, rel)
    assert quarantined == {"five": Reason.TOO_MANY_DECIMALS.value}
    costs = dict(query(tmp_path, "SELECT event_id, unit_cost FROM raw.stock_events"))
    assert {k: str(v) for k, v in costs.items()} == {"four": "12.1234", "zeros": "12.1234"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_booleans_are_true_or_false_in_every_format(tmp_path, fmt):
    write_master(tmp_path)
    rows = [
        order("t", customer_trusted="true"),
        order("f", customer_trusted="FALSE"),  # case is not meaning
        order("yes", customer_trusted="yes"),
        order("one", customer_trusted="1"),
    ]
    rows = [{k: None if v is None else str(v) for k, v in r.items()} for r in rows]
    rel = _write(tmp_path, "orders", fmt, rows)
    ingest(tmp_path)
    quarantined = _outcome(tmp_path, rel)
    assert quarantined == {"yes": Reason.INVALID_TYPE.value, "one": Reason.INVALID_TYPE.value}
    trusted = dict(query(tmp_path, "SELECT event_id, customer_trusted FROM raw.orders_events"))
    assert trusted == {"t": True, "f": False}


def test_typed_parquet_columns_follow_the_same_rules(tmp_path):
    """Parquet with real types: a DOUBLE cost and a BOOLEAN flag are read as their text."""
    write_master(tmp_path)
    base = order("x")
    table = pa.table(
        {
            **{k: pa.array([str(base[k])] * 3, pa.string()) for k in base if k != "unit_price"},
            "event_id": pa.array(["p1", "p2", "p3"]),
            "order_line_id": pa.array(["L1", "L2", "L3"]),
            "unit_price": pa.array([9.99, 12.12345, 5.5], pa.float64()),
            "customer_trusted": pa.array([True, False, None], pa.bool_()),
        }
    )
    path = tmp_path / "landing" / "orders" / "typed.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    ingest(tmp_path)
    quarantined = _outcome(tmp_path, "orders/typed.parquet")
    assert quarantined == {"p2": Reason.TOO_MANY_DECIMALS.value}
    loaded = dict(query(tmp_path, "SELECT event_id, customer_trusted FROM raw.orders_events"))
    assert loaded == {"p1": True, "p3": None}
