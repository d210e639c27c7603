"""Records are counted independently of DuckDB's reader: a 50 MiB line, a truncated
final line, an unterminated quote are quarantined with their line numbers, quoted
multi-line CSV fields load, and rows_read equals the independent count."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from opsledger.ingest.counting import scan_lines
from opsledger.ingest.reasons import Reason
from tests.ingest.ingest_helpers import (
    STOCK_HEADER,
    csv_text,
    ingest,
    order,
    query,
    reasons,
    stock,
    write,
    write_master,
)

HUGE = 50 << 20


def _file(summary, path):
    return next(f for f in summary.per_file if f["path"] == path)


def test_jsonl_50_mib_line_and_truncated_final_line(tmp_path):
    write_master(tmp_path)
    lines = [
        json.dumps(order("o1")),  # 1
        json.dumps(order("o2", customer_id="x" * HUGE)),  # 2: 50 MiB
        json.dumps(order("o3")),  # 3
        json.dumps(order("o4"))[:25],  # 4: truncated, no newline
    ]
    path = write(tmp_path, "orders/a.jsonl", "\n".join(lines))
    assert scan_lines(path).lines == 4
    s = ingest(tmp_path)
    f = _file(s, "orders/a.jsonl")
    assert (f["rows_read"], f["loaded"], f["quarantined"]) == (4, 2, 2)
    assert reasons(tmp_path) == {2: Reason.UNREADABLE_LINE, 4: Reason.MALFORMED_JSON}
    loaded = query(tmp_path, "select event_id, line_number from raw.orders_events order by 2")
    assert loaded == [("o1", 1), ("o3", 3)]  # o3 keeps its own line number


def test_csv_long_line_multiline_field_unterminated_quote_truncated_line(tmp_path):
    write_master(tmp_path)
    body = csv_text(
        STOCK_HEADER,
        [
            stock("s1"),  # line 2
            stock("s2", note="n" * HUGE),  # line 3: 50 MiB
            stock("s3"),  # line 4
            stock("s4", note="first line\nsecond line, with a comma"),  # lines 5-6
        ],
    )
    unterminated = csv_text(STOCK_HEADER, [stock("s5", note="open")]).splitlines()[1]
    assert unterminated.endswith(",open")  # note is the last column
    unterminated = unterminated[: -len("open")] + '"open'  # line 7: the quote never closes
    good = csv_text(STOCK_HEADER, [stock("s6")]).splitlines()[1]  # line 8
    truncated = good.replace("s6", "s7")[:30]  # line 9: cut off, no newline
    path = write(tmp_path, "stock/a.csv", body + f"{unterminated}\n{good}\n{truncated}")
    scan = scan_lines(path, csv=True)
    assert scan.lines == 9
    s = ingest(tmp_path)
    f = _file(s, "stock/a.csv")
    # records: 2, 3, 4, 5-6, 7, 8, 9 (the header is not one)
    assert (f["rows_read"], f["loaded"], f["quarantined"]) == (7, 4, 3)
    assert reasons(tmp_path) == {
        3: Reason.UNREADABLE_LINE,
        7: Reason.UNTERMINATED_QUOTE,
        9: Reason.COLUMN_COUNT,
    }
    loaded = query(
        tmp_path, "select event_id, line_number, note from raw.stock_events order by line_number"
    )
    assert loaded == [
        ("s1", 2, None),
        ("s3", 4, None),
        ("s4", 5, "first line\nsecond line, with a comma"),
        ("s6", 8, None),
    ]


def test_parquet_rows_read_equals_the_row_groups(tmp_path):
    write_master(tmp_path)
    n = 25
    table = pa.table(
        {
            "event_id": [f"f{i}" for i in range(n)],
            "event_type": ["supplier_invoice"] * n,
            "event_time": pa.array([1_709_287_200_000_000] * n, pa.timestamp("us", tz="UTC")),
            "source": ["ledger"] * n,
            "po_id": ["PO1"] * n,
            "supplier_id": ["SUP1"] * n,
            "amount": pa.array([1.5] * n),
            "currency": ["GBP"] * n,
        }
    )
    path = tmp_path / "landing" / "finance" / "f.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path, row_group_size=10)  # 3 row groups
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    s = ingest(tmp_path)
    f = _file(s, "finance/f.parquet")
    assert f["rows_read"] == pq.ParquetFile(path).metadata.num_rows == n
    assert f["loaded"] == n


def test_same_event_id_with_another_payload_is_a_conflict(tmp_path):
    write_master(tmp_path)
    write(tmp_path, "stock/a.csv", csv_text(STOCK_HEADER, [stock("s1"), stock("s2")]))
    ingest(tmp_path)
    # s1 again, identical (a duplicate); s2 again with 50 units (a conflict); within
    # the new file, s3 twice with different quantities (the first one is kept)
    write(
        tmp_path,
        "stock/b.csv",
        csv_text(
            STOCK_HEADER,
            [stock("s1"), stock("s2", quantity=50), stock("s3"), stock("s3", quantity=9)],
        ),
    )
    s = ingest(tmp_path)
    f = _file(s, "stock/b.csv")
    assert (f["rows_read"], f["loaded"], f["duplicates"], f["quarantined"]) == (4, 1, 1, 2)
    conflicts = query(
        tmp_path,
        "select event_id, line_number, detail from raw.quarantine "
        "where reason = 'conflicting_duplicate' order by line_number",
    )
    assert conflicts == [
        ("s2", 3, "differs from the event kept in: quantity"),
        ("s3", 5, "differs from the event kept in: quantity"),
    ]
    kept = query(tmp_path, "select event_id, quantity from raw.stock_events order by event_id")
    assert kept == [("s1", 5), ("s2", 5), ("s3", 5)]


def test_row_appended_during_ingest_is_not_quarantined(tmp_path, monkeypatch):
    """A writer appends to a landing file while ingest reads it: the half-written row
    is never quarantined; the file is read whole by the next ingest."""
    import opsledger.ingest.readers as readers

    write_master(tmp_path)
    path = write(tmp_path, "stock/live.csv", csv_text(STOCK_HEADER, [stock("s1"), stock("s2")]))
    row = csv_text(STOCK_HEADER, [stock("s3")]).splitlines()[1]
    real_scan = readers.scan_lines

    def scan_while_writing(p, csv=False):
        scan = real_scan(p, csv=csv)
        if p == path:
            with path.open("a") as handle:  # half a row, mid-write
                handle.write(row[:20])
        return scan

    monkeypatch.setattr(readers, "scan_lines", scan_while_writing)
    first = ingest(tmp_path)
    assert first.quarantined == 0
    assert query(tmp_path, "select count(*) from raw.stock_events") == [(0,)]
    monkeypatch.setattr(readers, "scan_lines", real_scan)
    with path.open("a") as handle:  # the writer finishes its row
        handle.write(row[20:] + "\n")
    second = ingest(tmp_path)
    assert (second.loaded, second.quarantined) == (3, 0)
    assert query(tmp_path, "select count(*) from raw.quarantine") == [(0,)]
