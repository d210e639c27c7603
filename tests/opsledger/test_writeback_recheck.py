"""Approval re-checks stock and open return units against the current publication
and the other pending claims; domain bounds per event are enforced in the forms."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from opsledger import writeback as wb
from opsledger.writeback import inbox
from opsledger.writeback.submissions import NoLongerApplies
from tests.opsledger.test_writeback import make_home, user


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = make_home(tmp_path / "home")
    wb.users_add(h, "lead", "warehouse_lead", "lead-password")
    wb.users_add(h, "fin", "finance_approver", "fin-password")
    return h


def republish(home: Path, tmp: Path, build_id: str, sql: str) -> None:
    """A new publication (a rename, as opsledger.publish does) with `sql` applied."""
    fresh = make_home(tmp / build_id, build_id=build_id)
    con = duckdb.connect(str(fresh / "warehouse.duckdb"))
    con.execute(sql)
    con.close()
    os.replace(fresh / "warehouse.duckdb", home / "warehouse.duckdb")


def test_write_off_refused_at_approval_when_the_wms_booked_the_units_out(home, tmp_path):
    # 60 of 100 units written off (600.00 > 500: waits for approval)
    sub = wb.submit_adjustment(
        home, user(home, "lead"), wb.open_form(home), sku="SKU-A", node_id="DC1",
        state="available", quantity=-60, reason_code="shrink",
    )  # fmt: skip
    assert sub.needs_approval
    # meanwhile the WMS ships 70: the next publication holds 30
    republish(
        home, tmp_path, "b2",
        "update marts.fct_stock_on_hand set quantity = 30 where sku = 'SKU-A'",
    )  # fmt: skip
    with pytest.raises(NoLongerApplies, match="now has 30 units"):
        wb.approve(home, user(home, "fin"), sub.submission_id, "ok")
    status = {s["submission_id"]: s for s in wb.submission_status(home)}
    assert status[sub.submission_id]["status"] == "rejected"
    assert inbox.export_pending(home) == []  # nothing exported


def test_approval_counts_other_pending_claims(home, tmp_path):
    first = wb.submit_adjustment(
        home, user(home, "lead"), wb.open_form(home), sku="SKU-A", node_id="DC1",
        state="available", quantity=-60, reason_code="shrink",
    )  # fmt: skip
    # 30 more claimed by a small adjustment (300.00: no approval needed)
    wb.submit_adjustment(
        home, user(home, "lead"), wb.open_form(home), sku="SKU-A", node_id="DC1",
        state="available", quantity=-30, reason_code="damage",
    )  # fmt: skip
    republish(
        home, tmp_path, "b2",
        "update marts.fct_stock_on_hand set quantity = 80 where sku = 'SKU-A'",
    )  # fmt: skip
    # 80 held - 30 claimed = 50 < 60
    with pytest.raises(NoLongerApplies, match="30 claimed by other pending"):
        wb.approve(home, user(home, "fin"), first.submission_id, "ok")


def test_approval_still_approves_what_still_applies(home, tmp_path):
    sub = wb.submit_adjustment(
        home, user(home, "lead"), wb.open_form(home), sku="SKU-A", node_id="DC1",
        state="available", quantity=-60, reason_code="shrink",
    )  # fmt: skip
    republish(
        home, tmp_path, "b2",
        "update marts.fct_stock_on_hand set quantity = 60 where sku = 'SKU-A'",
    )  # fmt: skip
    assert wb.approve(home, user(home, "fin"), sub.submission_id, "ok") == "approved"


def test_disposition_refused_at_approval_when_the_portal_disposed_the_line(home, tmp_path):
    # 6 x 200 = 1200 > 1000: waits for approval
    sub = wb.submit_disposition(
        home, user(home, "lead"), wb.open_form(home), return_line_id="R1-1", splits={"scrap": 6}
    )
    assert sub.needs_approval
    # the returns portal disposes 4 of the 6 units of the same line
    republish(
        home, tmp_path, "b2",
        "update marts.fct_return_lines set qty_disposed = 4 where return_line_id = 'R1-1'",
    )  # fmt: skip
    with pytest.raises(NoLongerApplies, match="now has 2 undisposed units"):
        wb.approve(home, user(home, "fin"), sub.submission_id, "ok")
    assert inbox.export_pending(home) == []


def test_forms_refuse_values_beyond_the_domain_bounds(home):
    with pytest.raises(wb.WritebackError, match="At most 1,000,000 units"):
        wb.submit_adjustment(
            home, user(home, "lead"), wb.open_form(home), sku="SKU-A", node_id="DC1",
            state="available", quantity=100_000_000_000_000, reason_code="found",
        )  # fmt: skip
