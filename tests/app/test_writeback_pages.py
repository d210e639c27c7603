"""AppTest of the write-back pages: sign-in, forms (valid, invalid, role denied, stale),
the approval flow (self-approval denied) and the audit page, on a small hand-made
warehouse (tests/opsledger/test_writeback.make_home)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from opsledger import writeback as wb
from opsledger.core.readonly import release
from opsledger.writeback.access import open_session
from tests.opsledger.test_writeback import make_home

MAIN = "../../app/main.py"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = make_home(tmp_path / "home")
    wb.users_add(h, "lead", "warehouse_lead", "lead-password")
    wb.users_add(h, "fin", "finance_approver", "fin-password")
    wb.users_add(h, "boss", "executive", "boss-password")
    wb.users_add(h, "root", "admin", "root-password")
    monkeypatch.setenv("OPSLEDGER_HOME", str(h))
    return h


def page(name: str, username: str | None = None) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=120)
    if username:
        at.session_state["wb_session"] = open_session(None, username)
    at.run()
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest, kind: str) -> str:
    return " ".join(e.value for e in getattr(at, kind))


def click(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_sign_in_and_out(home: Path) -> None:
    at = page("signin")
    at.text_input(key="wb_username_input").input("lead")
    at.text_input(key="wb_password_input").input("wrong-password")
    click(at, "Sign in")
    assert "wrong password" in texts(at, "error")
    at.text_input(key="wb_password_input").input("lead-password")
    click(at, "Sign in")
    assert "Signed in as **lead** (warehouse_lead)" in texts(at, "success")
    click(at, "Sign out")
    assert "wb_session" not in at.session_state


def test_signed_out_and_executive_cannot_submit(home: Path) -> None:
    signed_out = page("submit")  # the app's guard: the sign-in form, not the page
    assert [t.value for t in signed_out.title] == ["Sign in"]
    assert not [b for b in signed_out.button if b.label.startswith("Submit")]
    at = page("submit", "boss")
    assert "executive" in texts(at, "warning")
    assert not [b for b in at.button if b.label.startswith("Submit")]


def fill_adjustment(at: AppTest, sku: str, node: str, qty: int, reason: str = "shrink") -> AppTest:
    at.radio(key="wb_kind").set_value("Stock adjustment").run()
    at.text_input(key="wb_adj_sku").input(sku)
    at.text_input(key="wb_adj_node").input(node)
    at.number_input(key="wb_adj_qty").set_value(qty)
    at.selectbox(key="wb_adj_reason").set_value(reason)
    return click(at, "Submit adjustment")


def test_adjustment_valid_invalid_and_double_click(home: Path) -> None:
    at = page("submit", "lead")
    fill_adjustment(at, "NOPE", "DC1", -1)
    assert "Unknown SKU 'NOPE'" in texts(at, "error")
    fill_adjustment(at, "SKU-A", "XX", -1)
    assert "Unknown node 'XX'" in texts(at, "error")
    fill_adjustment(at, "SKU-A", "DC1", -101)
    assert "has 100 units in 'available'" in texts(at, "error")
    fill_adjustment(at, "SKU-A", "DC1", -3)
    assert "below the threshold" in texts(at, "success")
    [sub] = wb.submission_status(home)
    assert (
        sub["what"] == "adjust SKU-A at DC1 available -3 (shrink)" and sub["submitted_by"] == "lead"
    )
    # a double click or a resubmission of the same form records nothing new
    click(at, "Submit adjustment")
    assert "Already submitted" in texts(at, "info")
    assert len(wb.submission_status(home)) == 1
    click(at, "Start a new submission")
    fill_adjustment(at, "SKU-A", "DC1", -3)
    assert len(wb.submission_status(home)) == 2


def test_stale_form_is_refused(home: Path) -> None:
    at = page("submit", "lead")
    at.radio(key="wb_kind").set_value("Stock adjustment").run()
    release(home / "warehouse.duckdb")  # this process keeps it open read-only
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("insert into ops.publications values ('b2', now() + interval 1 second)")
    con.close()
    fill_adjustment(at, "SKU-A", "DC1", -1)
    assert "changed since this form was opened" in texts(at, "error")
    fill_adjustment(at, "SKU-A", "DC1", -1)  # the reloaded form works
    assert "Submitted" in texts(at, "success")


def test_disposition_offers_only_allowed_and_splits(home: Path) -> None:
    at = page("submit", "lead")
    offered = {n.label for n in at.number_input if n.key.startswith("wb_disp_q_")}
    assert offered == {"return_to_vendor", "scrap", "donate"}  # hygiene never restocks
    at.number_input(key="wb_disp_q_scrap").set_value(4)
    at.number_input(key="wb_disp_q_donate").set_value(2)
    at.text_area(key="wb_disp_note").input("seal broken")
    click(at, "Submit disposition")
    assert "waits for a finance approver" in texts(at, "success")  # 6 x 200 > 1000
    [sub] = wb.submission_status(home)
    assert sub["what"].endswith("2 donate, 4 scrap") and sub["status"] == "pending_approval"
    at.number_input(key="wb_disp_q_scrap").set_value(1)
    click(at, "Submit disposition")
    assert "Already submitted" in texts(at, "info")
    click(at, "Start a new submission")
    at.number_input(key="wb_disp_q_scrap").set_value(1)
    click(at, "Submit disposition")
    assert "6 in pending submissions" in texts(at, "error")


def submit_big(home: Path, who: str) -> str:
    sub = wb.submit_adjustment(
        home, wb.get_user(home, who), wb.open_form(home), sku="SKU-A", node_id="DC1",
        state="available", quantity=-60, reason_code="damage", note="pallet dropped",
    )  # fmt: skip
    return sub.submission_id


def test_approval_flow_and_self_approval_denied(home: Path) -> None:
    sid = submit_big(home, "root")
    # a warehouse lead sees no queue
    at = page("approvals", "lead")
    assert not [b for b in at.button if b.label == "Approve"]
    # the submitter (an admin) cannot decide their own submission
    at = page("approvals", "root")
    [approve] = [b for b in at.button if b.label == "Approve"]
    assert approve.disabled and "Your own submission" in texts(at, "caption")
    # a finance approver approves with a comment
    at = page("approvals", "fin")
    at.text_input(key=f"wb_comment_{sid}").input("photos checked")
    click(at, "Approve")
    assert f"{sid} approved" in texts(at, "success")
    [sub] = wb.submission_status(home)
    assert sub["status"] == "approved" and sub["decided_by"] == "fin (finance_approver)"


def test_reject_needs_a_comment(home: Path) -> None:
    sid = submit_big(home, "lead")
    at = page("approvals", "fin")
    click(at, "Reject")
    assert "comment is required" in texts(at, "error")
    at.text_input(key=f"wb_comment_{sid}").input("count again")
    click(at, "Reject")
    assert wb.submission_status(home)[0]["status"] == "rejected"


def test_audit_page_filters_and_downloads(home: Path) -> None:
    sid = submit_big(home, "lead")
    wb.approve(home, wb.get_user(home, "fin"), sid, "ok")
    wb.export_pending(home)
    at = page("audit", "fin")
    assert len(at.get("download_button")) == 2
    chains = at.dataframe[0].value
    assert list(chains["submission_id"]) == [sid]
    chain = chains["approval_chain"][0]
    assert "submitted by lead (warehouse_lead)" in chain and "approved by fin" in chain
    journal = at.dataframe[1].value
    assert {"submitted", "approved", "exported", "user_added"} <= set(journal["entry"])
    at.multiselect(key="wb_audit_who").set_value(["fin"]).run()
    assert set(at.dataframe[1].value["entry"]) == {"approved"}
