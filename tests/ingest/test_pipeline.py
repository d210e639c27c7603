"""End to end: idempotence, skipping, duplicates, early-arriving refs, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from opsledger.core.paths import HomePaths
from opsledger.ingest.pipeline import SLEEP_IN_TX_ENV, IngestBusy, ingest_lock, run_ingest
from opsledger.ingest.reasons import Reason
from tests.ingest.ingest_helpers import (
    STOCK_HEADER,
    assert_reconciles,
    csv_text,
    ingest,
    jsonl,
    order,
    product,
    quarantine,
    query,
    stock,
    write,
    write_master,
)

ROOT = Path(__file__).resolve().parents[2]


def _counts(home: Path) -> tuple[int, int, int]:
    return (
        query(home, "SELECT count(*) FROM raw.stock_events")[0][0],
        query(home, "SELECT count(*) FROM raw.orders_events")[0][0],
        query(home, "SELECT count(*) FROM raw.quarantine")[0][0],
    )


def test_ingest_twice_changes_nothing_and_renamed_copy_is_skipped(tmp_path):
    write_master(tmp_path)
    text = csv_text(STOCK_HEADER, [stock("s1"), stock("s2", quantity=0)])
    write(tmp_path, "stock/day1.csv", text)
    first = ingest(tmp_path)
    assert (first.files, first.loaded, first.quarantined) == (2, 7, 1)
    before = _counts(tmp_path)

    second = ingest(tmp_path)
    assert (second.files, second.files_skipped, second.rows_read, second.loaded) == (0, 2, 0, 0)

    write(tmp_path, "stock/copy-of-day1.csv", text)  # same bytes, other name
    third = ingest(tmp_path)
    assert (third.files, third.files_skipped, third.rows_read) == (0, 3, 0)
    assert _counts(tmp_path) == before
    status = query(
        tmp_path, "SELECT status, message FROM raw.ingest_files WHERE path LIKE '%copy-of%'"
    )
    assert status == [("skipped", "same content as stock/day1.csv")]
    assert ingest(tmp_path).files_skipped == 3  # the skip itself is remembered
    batches = query(tmp_path, "SELECT count(*), min(status) FROM raw.ingest_batches")
    assert batches == [(4, "done")]


def test_duplicates_within_and_across_files(tmp_path):
    write_master(tmp_path)
    write(tmp_path, "orders/a.jsonl", jsonl([order("o1"), order("o2"), order("o1", quantity=9)]))
    # across files: o2 again; o3 bad first then good (the good one loads)
    write(
        tmp_path,
        "orders/b.jsonl",
        jsonl([order("o2"), order("o3", quantity=0), order("o3"), order("o3")]),
    )
    s = ingest(tmp_path)
    by = {f["path"]: f for f in s.per_file}
    # o1 again with another quantity: a conflict, quarantined (the first one is kept)
    a = by["orders/a.jsonl"]
    assert (a["loaded"], a["duplicates"], a["quarantined"]) == (2, 0, 1)
    assert {(f, line): r for f, line, r, _, _ in quarantine(tmp_path)}[("orders/a.jsonl", 3)] == (
        Reason.CONFLICTING_DUPLICATE
    )
    assert (by["orders/b.jsonl"]["loaded"], by["orders/b.jsonl"]["duplicates"]) == (1, 2)
    assert by["orders/b.jsonl"]["quarantined"] == 1
    rows = query(
        tmp_path,
        "SELECT event_id, quantity, source_file, line_number FROM raw.orders_events ORDER BY 1",
    )
    assert rows == [
        ("o1", 2, "orders/a.jsonl", 1),  # first occurrence wins
        ("o2", 2, "orders/a.jsonl", 2),
        ("o3", 2, "orders/b.jsonl", 3),
    ]


def test_early_arriving_sku_is_held_then_released(tmp_path):
    write_master(tmp_path)
    write(
        tmp_path,
        "orders/a.jsonl",
        jsonl([order("o1", sku="NEW"), order("o2", sku="NEW", channel="amazon"), order("o3")]),
    )
    s1 = ingest(tmp_path)
    assert (s1.loaded, s1.quarantined, s1.released) == (7, 2, 0)
    held = quarantine(tmp_path)
    # the first failing reference is reported (fields in domain order)
    assert [(r[2], r[4]) for r in held] == [
        (Reason.UNKNOWN_SKU, True),
        (Reason.UNKNOWN_CHANNEL, True),
    ]
    # nothing new: held rows stay held
    assert ingest(tmp_path).released == 0

    from tests.ingest.ingest_helpers import MASTER_HEADER

    write(tmp_path, "master/late.csv", csv_text(MASTER_HEADER, [product("m9", "NEW")]))
    s2 = ingest(tmp_path)
    assert s2.released == 1
    assert_reconciles(s2)
    got = query(
        tmp_path,
        "SELECT event_id, source_file, line_number, batch_id = ? FROM raw.orders_events ORDER BY 1",
        [s2.batch_id],
    )
    assert got == [("o1", "orders/a.jsonl", 1, True), ("o3", "orders/a.jsonl", 3, False)]
    q = query(
        tmp_path,
        "SELECT event_id, reason, retryable, released_at IS NOT NULL, release_outcome "
        "FROM raw.quarantine ORDER BY event_id",
    )
    # o2 still lacks its channel (still retryable)
    assert q == [
        ("o1", Reason.UNKNOWN_SKU, True, True, "loaded"),
        ("o2", Reason.UNKNOWN_CHANNEL, True, False, None),
    ]


def test_master_file_refs_within_itself_and_held_supplier(tmp_path):
    from tests.ingest.ingest_helpers import MASTER_HEADER, master_rows

    rows = [product("p0", "SKU0", supplier="SUP2"), *master_rows()]  # SUP2 never defined
    write(tmp_path, "master/m.csv", csv_text(MASTER_HEADER, rows))
    s = ingest(tmp_path)
    assert (s.loaded, s.quarantined) == (6, 1)
    assert quarantine(tmp_path)[0][2] == Reason.UNKNOWN_SUPPLIER


def test_lock_excludes_a_second_ingest(tmp_path):
    paths = HomePaths.at(tmp_path).ensure()
    with ingest_lock(paths.ingest_lock), pytest.raises(IngestBusy):
        run_ingest(tmp_path)


def test_kill_9_mid_file_leaves_no_partial_file(tmp_path):
    write_master(tmp_path)
    write(tmp_path, "stock/s.csv", csv_text(STOCK_HEADER, [stock(f"s{i}") for i in range(500)]))
    env = {**os.environ, SLEEP_IN_TX_ENV: "2", "PYTHONPATH": str(ROOT)}
    code = "import sys; from ingest.pipeline import run_ingest; run_ingest(sys.argv[1])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(120, proc.kill)
    timer.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("in-transaction stock/s.csv"):
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait()
    finally:
        timer.cancel()
    assert proc.returncode == -signal.SIGKILL
    # master committed before the kill; the stock file is not there at all
    assert query(tmp_path, "SELECT count(*) FROM raw.master_events") == [(6,)]
    assert query(tmp_path, "SELECT count(*) FROM raw.stock_events") == [(0,)]
    assert query(tmp_path, "SELECT path FROM raw.ingest_files") == [("master/products.csv",)]
    s = ingest(tmp_path)
    assert (s.files, s.files_skipped, s.loaded) == (1, 1, 500)
    batches = query(tmp_path, "SELECT status FROM raw.ingest_batches ORDER BY started_at")
    assert [status for (status,) in batches] == ["killed", "done"]  # not left 'running'
    assert query(tmp_path, "SELECT count(DISTINCT event_id) FROM raw.stock_events") == [(500,)]


def test_held_row_in_earlier_file_and_same_id_valid_in_later_file(tmp_path):
    """Files of a source are validated together, with the result of loading them in order."""
    write_master(tmp_path)
    write(tmp_path, "orders/a.jsonl", jsonl([order("o1", sku="NEW"), order("o2")]))
    write(tmp_path, "orders/b.jsonl", jsonl([order("o1"), order("o2"), order("o1")]))
    s = ingest(tmp_path)
    by = {f["path"]: (f["loaded"], f["duplicates"], f["quarantined"]) for f in s.per_file}
    assert by["orders/a.jsonl"] == (1, 0, 1)  # o1 held (unknown sku)
    assert by["orders/b.jsonl"] == (1, 2, 0)  # o1 loads here, o2 is a duplicate of a's
    rows = query(tmp_path, "SELECT event_id, source_file, line_number FROM raw.orders_events")
    assert sorted(rows) == [("o1", "orders/b.jsonl", 1), ("o2", "orders/a.jsonl", 2)]
    # the held o1 is re-checked at the end of the run: b's o1 (another sku) is kept, so
    # the held one is a conflict now, permanently quarantined (not a silent duplicate)
    assert s.released == 0
    assert query(tmp_path, "SELECT reason, retryable FROM raw.quarantine") == [
        ("conflicting_duplicate", False)
    ]


def test_small_batches_give_the_same_result(tmp_path, monkeypatch):
    from opsledger.ingest import pipeline

    def load(home: Path) -> list[tuple]:
        write_master(home)
        for name, ids in (("a", ["o1", "o2", "o1"]), ("b", ["o2", "o3"]), ("c", ["o3", "o4"])):
            write(home, f"orders/{name}.jsonl", jsonl([order(i) for i in ids]))
        s = ingest(home)
        files = sorted(
            (f["path"], f["rows_read"], f["loaded"], f["duplicates"], f["quarantined"])
            for f in s.per_file
        )
        events = query(home, "SELECT event_id, source_file, line_number FROM raw.orders_events")
        return [files, sorted(events)]

    together = load(tmp_path / "one")
    monkeypatch.setattr(pipeline, "BATCH_BYTES", 1)
    assert load(tmp_path / "many") == together


def test_master_files_of_one_run_see_each_other(tmp_path):
    from tests.ingest.ingest_helpers import MASTER_HEADER, master_rows

    rows = master_rows()
    supplier = [r for r in rows if r["event_type"] == "supplier_upserted"]
    write(tmp_path, "master/a_products.csv", csv_text(MASTER_HEADER, [product("p9", "SKU9")]))
    write(tmp_path, "master/b_rest.csv", csv_text(MASTER_HEADER, supplier))
    s = ingest(tmp_path)
    assert (s.loaded, s.quarantined, s.released) == (2, 0, 0)
