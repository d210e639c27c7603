"""Bad input at the line and file level: each kind gets its reason, nothing is lost."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opsledger.ingest.reasons import Reason
from tests.ingest.ingest_helpers import (
    STOCK_HEADER,
    csv_text,
    ingest,
    jsonl,
    order,
    quarantine,
    query,
    reasons,
    stock,
    write,
    write_master,
)


def _file(summary, source):
    return next(f for f in summary.per_file if f["source"] == source)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_jsonl_bad_lines_keep_their_line_numbers(tmp_path, newline):
    write_master(tmp_path)
    good = [json.dumps(order(f"o{i}")).encode() for i in range(4)]
    content = newline.join(
        [
            good[0],  # 1
            b"",  # 2 blank: not a row
            b'{"event_id": "bad", "sku": "\xff\xfeSKU"}',  # 3 invalid UTF-8
            good[1],  # 4
            b'{"event_id": "x", ',  # 5 malformed
            b"[1, 2]",  # 6 not an object
            good[2],  # 7
            good[3],  # 8
        ]
    )
    write(tmp_path, "orders/o.ndjson", content + newline)
    s = ingest(tmp_path)
    f = _file(s, "orders")
    assert (f["rows_read"], f["loaded"], f["quarantined"]) == (7, 4, 3)
    assert reasons(tmp_path) == {
        3: Reason.INVALID_UTF8,
        5: Reason.MALFORMED_JSON,
        6: Reason.MALFORMED_JSON,
    }
    lines = query(tmp_path, "SELECT event_id, line_number FROM raw.orders_events ORDER BY 2")
    assert lines == [("o0", 1), ("o1", 4), ("o2", 7), ("o3", 8)]
    (raw,) = query(tmp_path, "SELECT raw_text FROM raw.quarantine WHERE line_number = 3")[0]
    assert "SKU" in raw  # the raw text is kept (bad bytes replaced)


def test_truncated_gzip_keeps_complete_lines(tmp_path):
    write_master(tmp_path)
    data = gzip.compress(jsonl([order(f"o{i}") for i in range(2000)]).encode())
    write(tmp_path, "orders/big.jsonl.gz", data[: len(data) * 2 // 3])
    s = ingest(tmp_path)
    f = _file(s, "orders")
    assert "truncated gzip" in f["message"]
    assert f["quarantined"] == 1 and 0 < f["loaded"] < 2000
    ((line, reason),) = query(tmp_path, "SELECT line_number, reason FROM raw.quarantine")
    assert reason == Reason.TRUNCATED_FILE and line == f["loaded"] + 1


def test_gzip_csv_and_not_a_gzip(tmp_path):
    write_master(tmp_path)
    write(tmp_path, "stock/a.csv.gz", gzip.compress(csv_text(STOCK_HEADER, [stock("s1")]).encode()))
    write(tmp_path, "stock/b.csv.gz", b"this is not gzip at all\n")
    s = ingest(tmp_path)
    by_path = {f["path"]: f for f in s.per_file}
    assert by_path["stock/a.csv.gz"]["loaded"] == 1
    assert by_path["stock/b.csv.gz"]["status"] == "rejected"
    assert "gzip" in by_path["stock/b.csv.gz"]["message"]


def test_csv_shapes(tmp_path):
    write_master(tmp_path)
    text = csv_text(STOCK_HEADER, [stock("s1", note='says "hi", twice'), stock("s2")])
    text += "s3,po_receipt,2024-03-01T10:00:00Z,wms,DC1\n"  # too few columns
    text += text.splitlines()[2] + ",extra\n"  # too many
    write(tmp_path, "stock/s.csv", text)
    ingest(tmp_path)
    assert reasons(tmp_path) == {4: Reason.COLUMN_COUNT, 5: Reason.COLUMN_COUNT}
    notes = query(tmp_path, "SELECT note FROM raw.stock_events WHERE event_id = 's1'")
    assert notes == [('says "hi", twice',)]


def test_csv_header_missing_and_extra_columns(tmp_path):
    write_master(tmp_path)
    header = [c for c in STOCK_HEADER if c != "quantity"] + ["colour"]
    rows = [{**stock("s1"), "colour": "red"}, {**stock("s2", "cycle_count"), "counted_qty": 3,
            "system_qty": 3}]  # fmt: skip
    write(tmp_path, "stock/s.csv", csv_text(header, rows))
    s = ingest(tmp_path)
    f = _file(s, "stock")
    assert "colour" in f["message"] and "quantity" in f["message"]
    assert (f["loaded"], f["quarantined"]) == (1, 1)  # the cycle count needs no quantity
    # s1 carries a value under a column the contract does not have (docs/contract.md);
    # the cycle count leaves it empty and loads
    assert quarantine(tmp_path)[0][2:4] == (Reason.UNKNOWN_FIELD, "unknown fields: colour")


def test_wrong_delimiter_rejects_file_but_counts_every_line(tmp_path):
    write_master(tmp_path)
    text = csv_text(STOCK_HEADER, [stock("s1"), stock("s2")]).replace(",", ";")
    write(tmp_path, "stock/semi.csv", text)
    s = ingest(tmp_path)
    f = _file(s, "stock")
    assert f["status"] == "rejected" and "delimiter" in f["message"]
    assert (f["rows_read"], f["quarantined"]) == (2, 2)
    assert set(reasons(tmp_path).values()) == {Reason.WRONG_DELIMITER}


def test_empty_and_header_only(tmp_path):
    write_master(tmp_path)
    write(tmp_path, "stock/empty.csv", "")
    write(tmp_path, "stock/header.csv", ",".join(STOCK_HEADER) + "\n")
    write(tmp_path, "orders/blank.jsonl", "\n\n  \n")
    s = ingest(tmp_path)
    by_path = {f["path"]: f for f in s.per_file}
    assert by_path["stock/empty.csv"]["status"] == "empty"
    assert by_path["stock/header.csv"]["status"] == "empty"
    assert "header only" in by_path["stock/header.csv"]["message"]
    assert by_path["orders/blank.jsonl"]["status"] == "empty"
    assert all(by_path[p]["rows_read"] == 0 for p in by_path if p != "master/products.csv")


def test_json_array_and_parquet(tmp_path):
    write_master(tmp_path)
    write(tmp_path, "orders/a.json", json.dumps([order("o1"), order("o2", quantity=0)]))
    table = pa.table(
        {
            "event_id": ["f1", "f2"],
            "event_type": ["supplier_invoice", "supplier_invoice"],
            "event_time": pa.array(
                [1_709_287_200_000_000, 1_709_287_200_000_000], pa.timestamp("us", tz="UTC")
            ),
            "source": ["ledger", "ledger"],
            "po_id": ["PO1", "PO1"],
            "supplier_id": ["SUP1", "SUP9"],
            "amount": pa.array([12.5, 3.0]),
            "currency": ["GBP", "GBP"],
        }
    )
    path = tmp_path / "landing" / "finance" / "f.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    naive = table.set_column(2, "event_time", pa.array([1, 2], pa.timestamp("us")))
    pq.write_table(
        naive.slice(0, 1).set_column(0, "event_id", pa.array(["f3"])), path.with_name("n.parquet")
    )
    write(tmp_path, "finance/broken.parquet", b"PAR1 not really")
    s = ingest(tmp_path)
    by_path = {f["path"]: f for f in s.per_file}
    assert by_path["orders/a.json"]["loaded"] == 1
    assert by_path["finance/f.parquet"]["loaded"] == 1  # f2: unknown supplier, held
    assert by_path["finance/broken.parquet"]["status"] == "rejected"
    q = {(f, line): r for f, line, r, _, _ in quarantine(tmp_path)}
    assert q == {
        ("orders/a.json", 2): Reason.NOT_POSITIVE,
        ("finance/f.parquet", 2): Reason.UNKNOWN_SUPPLIER,
        ("finance/n.parquet", 1): Reason.TIMESTAMP_WITHOUT_ZONE,
    }


def test_files_read_together_keep_their_own_line_numbers(tmp_path):
    """The files of a source are scanned together: lines and rejects stay per file."""
    write_master(tmp_path)
    good = [json.dumps(order(f"o{i}")).encode() for i in range(6)]
    bad = b'{"event_id": "bad", "sku": "\xff"}'
    write(tmp_path, "orders/a.jsonl", b"\n".join([good[0], bad, good[1]]) + b"\n")
    write(tmp_path, "orders/b.jsonl.gz", gzip.compress(b"\n".join([good[2], good[3]]) + b"\n"))
    write(tmp_path, "orders/c.jsonl", b"\n".join([bad, b"", bad, good[4], good[5]]) + b"\n")
    write(tmp_path, "stock/a.csv", csv_text(STOCK_HEADER, [stock("s1"), stock("s2")]))
    other = [c for c in STOCK_HEADER if c != "note"][::-1]  # another header, same source
    write(tmp_path, "stock/b.csv", csv_text(other, [stock("s3"), stock("s1")]))
    s = ingest(tmp_path)
    by = {f["path"]: (f["rows_read"], f["loaded"], f["duplicates"], f["quarantined"])
          for f in s.per_file}  # fmt: skip
    assert by["orders/a.jsonl"] == (3, 2, 0, 1)
    assert by["orders/b.jsonl.gz"] == (2, 2, 0, 0)
    assert by["orders/c.jsonl"] == (4, 2, 0, 2)
    assert by["stock/b.csv"] == (2, 1, 1, 0)
    assert quarantine(tmp_path) == [
        ("orders/a.jsonl", 2, Reason.INVALID_UTF8, "INVALID ENCODING", False),
        ("orders/c.jsonl", 1, Reason.INVALID_UTF8, "INVALID ENCODING", False),
        ("orders/c.jsonl", 3, Reason.INVALID_UTF8, "INVALID ENCODING", False),
    ]
    lines = query(
        tmp_path,
        "SELECT event_id, source_file, line_number FROM raw.orders_events "
        "UNION ALL SELECT event_id, source_file, line_number FROM raw.stock_events ORDER BY 2, 3",
    )
    assert lines == [
        ("o0", "orders/a.jsonl", 1),
        ("o1", "orders/a.jsonl", 3),
        ("o2", "orders/b.jsonl.gz", 1),
        ("o3", "orders/b.jsonl.gz", 2),
        ("o4", "orders/c.jsonl", 4),
        ("o5", "orders/c.jsonl", 5),
        ("s1", "stock/a.csv", 2),
        ("s2", "stock/a.csv", 3),
        ("s3", "stock/b.csv", 2),
    ]
