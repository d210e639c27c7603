"""Write-back through the real pipeline: concurrent submissions from separate processes,
a submitter killed right after its inbox commit, and submissions changing the published
marts by exactly the expected amounts (one copy of the real published home; two
refreshes: one to land inspections, one to apply)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from opsledger import writeback as wb
from opsledger.models import load_domain
from opsledger.refresh import run_refresh
from opsledger.writeback import warehouse as wb_warehouse
from tests.app.writeback_home import inspected_copy, query

N_CONCURRENT = 20


def on_hand(home: Path, sku: str, node: str, state: str) -> int:
    row = query(
        home,
        "select coalesce(sum(quantity), 0) from marts.fct_stock_on_hand "
        "where sku = ? and node_id = ? and state = ?",
        [sku, node, state],
    )
    return int(row[0][0])


def _submit_one(home: str, sku: str, node: str, barrier) -> str:
    user = wb.get_user(home, "lead")
    session = wb.open_form(home)
    barrier.wait()
    sub = wb.submit_adjustment(
        home, user, session, sku=sku, node_id=node, state="available", quantity=1,
        reason_code="found", note="concurrent",
    )  # fmt: skip
    return sub.submission_id


def _submit_then_hang(home: str, sku: str, node: str, marker: str) -> None:
    sub = wb.submit_adjustment(
        home, wb.get_user(home, "lead"), wb.open_form(home), sku=sku, node_id=node,
        state="available", quantity=1, reason_code="found", note="crash",
    )  # fmt: skip
    Path(marker).write_text(sub.submission_id)  # the inbox commit is done
    time.sleep(600)


@pytest.fixture(scope="module")
def applied(real_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = inspected_copy(real_home, tmp_path_factory.mktemp("wb-pipeline") / "home")
    wb.users_add(home, "lead", "warehouse_lead", "lead-password")
    wb.users_add(home, "fin", "finance_approver", "fin-password")
    lead, fin = wb.get_user(home, "lead"), wb.get_user(home, "fin")

    skus = query(
        home,
        "select s.sku, s.node_id, s.quantity, d.unit_cost from marts.fct_stock_on_hand s "
        "join marts.dim_sku d using (sku) where s.state = 'available' and s.quantity >= 5 "
        "and d.unit_cost > 0 order by s.sku, s.node_id limit 3",
    )
    (c_sku, c_node, *_), (a_sku, a_node, *_), (b_sku, b_node, _, b_cost) = skus
    with wb_warehouse.read(home) as con:
        line = next(
            r
            for r in wb_warehouse.open_return_lines(con)
            if r["product_class"] in ("standard", "apparel", "fragile") and not r["qty_disposed"]
        )
    before = {
        "conc": on_hand(home, c_sku, c_node, "available"),
        "adj": on_hand(home, a_sku, a_node, "available"),
        "big": on_hand(home, b_sku, b_node, "available"),
        "ret": on_hand(home, line["sku"], line["node_id"], "returned"),
        "ready": on_hand(home, line["sku"], line["node_id"], "resale_ready"),
    }

    # 20 concurrent submissions from separate processes
    ctx = mp.get_context("spawn")
    barrier = ctx.Manager().Barrier(N_CONCURRENT)
    with ctx.Pool(N_CONCURRENT) as pool:
        conc_ids = pool.starmap(_submit_one, [(str(home), c_sku, c_node, barrier)] * N_CONCURRENT)
    # a submitter killed right after its inbox commit
    marker = home.parent / "crash.marker"
    proc = ctx.Process(target=_submit_then_hang, args=(str(home), c_sku, c_node, str(marker)))
    proc.start()
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    crash_id = marker.read_text()

    # a small adjustment, a disposition, and one above the threshold approved by finance
    started = time.perf_counter()
    adj = wb.submit_adjustment(
        home, lead, wb.open_form(home), sku=a_sku, node_id=a_node, state="available",
        quantity=-2, reason_code="shrink", note="e2e",
    )  # fmt: skip
    disp = wb.submit_disposition(
        home, lead, wb.open_form(home), return_line_id=line["return_line_id"],
        splits={"restock": int(line["quantity"])}, note="e2e",
    )  # fmt: skip
    big_qty = int(500 // b_cost) + 1
    big = wb.submit_adjustment(
        home, lead, wb.open_form(home), sku=b_sku, node_id=b_node, state="available",
        quantity=big_qty, reason_code="found", note="big",
    )  # fmt: skip
    assert big.needs_approval
    wb.approve(home, fin, big.submission_id, "checked")
    result = wb.apply_pending(home, run_refresh, min_interval_seconds=0)
    seconds = time.perf_counter() - started
    print(f"\nwrite-back: submit -> visible in the published warehouse: {seconds:.1f}s "
          f"(refresh timings {result.refresh.get('timings')})")  # fmt: skip
    return {
        "home": home,
        "result": result,
        "seconds": seconds,
        "conc_ids": conc_ids,
        "crash_id": crash_id,
        "adj": adj,
        "disp": disp,
        "big": big,
        "big_qty": big_qty,
        "line": line,
        "keys": {"conc": (c_sku, c_node), "adj": (a_sku, a_node), "big": (b_sku, b_node)},
        "before": before,
    }


def test_apply_published(applied: dict) -> None:
    assert applied["result"].status == "published", applied["result"].message
    statuses = {s["submission_id"]: s for s in wb.submission_status(applied["home"])}
    assert all(s["status"] == "applied" and s["applied_at"] for s in statuses.values()), [
        (s["submission_id"], s["status"]) for s in statuses.values() if s["status"] != "applied"
    ]


def test_twenty_concurrent_submissions_give_exactly_twenty_events(applied: dict) -> None:
    home, ids = applied["home"], applied["conc_ids"]
    assert len(set(ids)) == N_CONCURRENT
    rows = query(
        home,
        "select submission_id, count(*) from raw.stock_events "
        "where submission_id in (select unnest(?::varchar[])) group by 1",
        [ids],
    )
    assert len(rows) == N_CONCURRENT and all(n == 1 for _, n in rows)
    sku, node = applied["keys"]["conc"]
    # 20 concurrent + 1 from the killed submitter, each +1
    assert on_hand(home, sku, node, "available") == applied["before"]["conc"] + N_CONCURRENT + 1


def test_submission_of_a_killed_process_is_applied(applied: dict) -> None:
    rows = query(
        applied["home"],
        "select event_id, submitted_by from raw.stock_events where submission_id = ?",
        [applied["crash_id"]],
    )
    assert rows == [(f"{applied['crash_id']}-1", "lead")]


def test_marts_change_by_exactly_the_submitted_amounts(applied: dict) -> None:
    home, before, line = applied["home"], applied["before"], applied["line"]
    sku, node = applied["keys"]["adj"]
    assert on_hand(home, sku, node, "available") == before["adj"] - 2
    sku, node = applied["keys"]["big"]
    assert on_hand(home, sku, node, "available") == before["big"] + applied["big_qty"]
    qty = int(line["quantity"])
    assert on_hand(home, line["sku"], line["node_id"], "returned") == before["ret"] - qty
    assert on_hand(home, line["sku"], line["node_id"], "resale_ready") == before["ready"] + qty
    row = query(
        home,
        "select disposition, qty_disposed, disposition_submission_id from marts.fct_return_lines "
        "where return_line_id = ?",
        [line["return_line_id"]],
    )[0]
    assert row[0] == "restock" and row[1] == qty
    events = query(
        home,
        "select approved_by, submitted_by from raw.stock_events where submission_id = ?",
        [applied["big"].submission_id],
    )
    assert events == [("fin", "lead")]


def test_apply_again_exports_nothing_and_skips(applied: dict) -> None:
    again = wb.apply_pending(applied["home"], run_refresh, min_interval_seconds=0)
    assert again.exported == [] and again.status == "nothing_to_apply"
    files = list((applied["home"] / "landing" / "stock" / "_writeback").glob("writeback-*.csv"))
    assert len(files) == N_CONCURRENT + 3


def test_disposition_rules_follow_the_domain_model(applied: dict) -> None:
    assert "restock" in load_domain().allowed_dispositions(applied["line"]["product_class"])
