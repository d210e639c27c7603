"""Unit tests of opsledger.writeback on a tiny hand-made warehouse: hashing, roles,
self-approval, thresholds, idempotency, validation messages, append-only audit."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import duckdb
import pytest

from opsledger import writeback as wb
from opsledger.core.readonly import release
from opsledger.writeback import inbox, store, users


def make_home(home: Path, build_id: str = "b1") -> Path:
    home.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("create schema marts; create schema ops; create schema raw")
    con.execute(
        "create table marts.dim_sku as select * from (values "
        "('SKU-A', 'standard', 10.0), ('SKU-H', 'hygiene', 200.0)) t(sku, product_class, unit_cost)"
    )
    con.execute("create table marts.dim_node as select 'DC1' as node_id")
    con.execute(
        "create table marts.fct_stock_on_hand as select * from (values "
        "('SKU-A', 'DC1', 'available', 100), ('SKU-H', 'DC1', 'returned', 6)) "
        "t(sku, node_id, state, quantity)"
    )
    con.execute(
        "create table marts.fct_return_lines as select * from (values "
        "('R1', 'R1-1', 'SKU-H', 'DC1', 6, 0, 'C', timestamp '2025-01-02', null::varchar, 'hygiene'),"
        "('R2', 'R2-1', 'SKU-A', 'DC1', 2, 0, 'A', null::timestamp, null::varchar, 'standard')) "
        "t(return_id, return_line_id, sku, received_node_id, qty_received, qty_disposed, "
        "condition_grade, inspected_at, disposition, product_class)"
    )
    con.execute("alter table marts.fct_return_lines add column quantity int default 6")
    con.execute("create table raw.stock_events (event_id varchar, ingested_at timestamptz)")
    con.execute("create table raw.returns_events (event_id varchar, ingested_at timestamptz)")
    con.execute(
        "create table ops.publications (build_id varchar, published_at timestamp);"
        f"insert into ops.publications values ('{build_id}', now())"
    )
    con.close()
    return home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = make_home(tmp_path / "home")
    wb.users_add(h, "lead", "warehouse_lead", "lead-password")
    wb.users_add(h, "fin", "finance_approver", "fin-password")
    wb.users_add(h, "boss", "executive", "boss-password")
    wb.users_add(h, "root", "admin", "root-password")
    return h


def user(home: Path, name: str) -> wb.User:
    found = wb.get_user(home, name)
    assert found is not None
    return found


def test_passwords_are_argon2_hashed_and_verified(home: Path) -> None:
    with store.connect(home) as con:
        stored = con.execute("select password_hash from users where username='lead'").fetchone()[0]
    assert stored.startswith("$argon2id$") and "lead-password" not in stored
    assert wb.authenticate(home, "lead", "lead-password") == wb.User("lead", "warehouse_lead")
    assert wb.authenticate(home, "lead", "wrong-password") is None
    assert wb.authenticate(home, "nobody", "lead-password") is None
    assert users.hash_password("x" * 8) != users.hash_password("x" * 8)  # salted


def test_users_add_list_disable(home: Path) -> None:
    with pytest.raises(wb.WritebackError, match="already exists"):
        wb.users_add(home, "lead", "admin", "another-pass")
    with pytest.raises(wb.WritebackError, match="Unknown role"):
        wb.users_add(home, "x1", "superuser", "password1")
    with pytest.raises(wb.WritebackError, match="at least"):
        wb.users_add(home, "x2", "planner", "short")
    assert [u["username"] for u in wb.users_list(home)] == ["boss", "fin", "lead", "root"]
    assert wb.users_disable(home, "lead") is True
    assert wb.users_disable(home, "lead") is False
    assert wb.authenticate(home, "lead", "lead-password") is None
    assert {u["username"]: u["disabled"] for u in wb.users_list(home)}["lead"] is True
    with pytest.raises(wb.PermissionDenied, match="disabled"):
        wb.submit_adjustment(
            home, user(home, "lead"), wb.open_form(home), sku="SKU-A", node_id="DC1",
            state="available", quantity=1, reason_code="found",
        )  # fmt: skip


def adjust(home: Path, who: str, qty: int, **kw) -> wb.Submission:
    args = {"sku": "SKU-A", "node_id": "DC1", "state": "available", "reason_code": "shrink"}
    args.update(kw)
    session = kw.pop("session", None) or wb.open_form(home)
    args.pop("session", None)
    return wb.submit_adjustment(home, user(home, who), session, quantity=qty, **args)


def test_roles_gate_actions(home: Path) -> None:
    with pytest.raises(wb.PermissionDenied, match="executive"):
        adjust(home, "boss", -1)
    with pytest.raises(wb.PermissionDenied, match="Sign in"):
        wb.submit_adjustment(
            home, None, wb.open_form(home), sku="SKU-A", node_id="DC1", state="available",
            quantity=1, reason_code="found",
        )  # fmt: skip
    big = adjust(home, "root", -60)  # 600 > 500: needs approval
    with pytest.raises(wb.PermissionDenied, match="warehouse_lead"):
        wb.approve(home, user(home, "lead"), big.submission_id)
    assert wb.approve(home, user(home, "fin"), big.submission_id, "ok") == "approved"


def test_self_approval_denied_even_for_admin(home: Path) -> None:
    big = adjust(home, "root", -60)
    assert big.needs_approval
    with pytest.raises(wb.PermissionDenied, match="your own"):
        wb.approve(home, user(home, "root"), big.submission_id)
    with pytest.raises(wb.PermissionDenied, match="your own"):
        wb.reject(home, user(home, "root"), big.submission_id, "no")


def test_thresholds(home: Path) -> None:
    assert adjust(home, "lead", -50).needs_approval is False  # 500.00 is not above 500
    small = adjust(home, "lead", -5, reason_code="damage")
    assert small.value == 50.0
    over = adjust(home, "lead", 51, reason_code="found")
    assert over.value == 510.0 and over.needs_approval
    # dispositions: 6 x 200 = 1200 > 1000; 5 x 200 = 1000 is not above
    five = wb.submit_disposition(
        home, user(home, "lead"), wb.open_form(home), return_line_id="R1-1", splits={"scrap": 5}
    )
    assert five.value == 1000.0 and not five.needs_approval


def test_idempotent_per_submission_id(home: Path) -> None:
    session = wb.open_form(home)
    first = adjust(home, "lead", -3, session=session)
    again = adjust(home, "lead", -3, session=session)
    assert again.duplicate and again.submission_id == first.submission_id
    assert wb.export_pending(home) == [first.submission_id]
    assert wb.export_pending(home) == []
    files = list((home / "landing" / "stock" / "_writeback").glob("writeback-*.csv"))
    assert len(files) == 1
    text = files[0].read_text()
    assert text.count("\n") == 2 and f"{first.submission_id}-1" in text
    assert ",3,available,adjustment,shrink," in text


def test_validation_messages(home: Path) -> None:
    with pytest.raises(wb.WritebackError, match="Unknown SKU"):
        adjust(home, "lead", -1, sku="NOPE")
    with pytest.raises(wb.WritebackError, match="Unknown node"):
        adjust(home, "lead", -1, node_id="XX")
    with pytest.raises(wb.WritebackError, match="has 100 units"):
        adjust(home, "lead", -101)
    adjust(home, "lead", -40)
    with pytest.raises(wb.WritebackError, match="40 already claimed"):
        adjust(home, "lead", -61)
    with pytest.raises(wb.WritebackError, match="not allowed"):
        adjust(home, "lead", 1, state="reserved", reason_code="found")
    with pytest.raises(wb.WritebackError, match="reason code"):
        adjust(home, "lead", 1, reason_code="because")
    lead = user(home, "lead")
    with pytest.raises(wb.WritebackError, match="restock is not allowed for hygiene"):
        wb.submit_disposition(home, lead, wb.open_form(home), return_line_id="R1-1",
                              splits={"restock": 1})  # fmt: skip
    with pytest.raises(wb.WritebackError, match="not inspected"):
        wb.submit_disposition(home, lead, wb.open_form(home), return_line_id="R2-1",
                              splits={"scrap": 1})  # fmt: skip
    with pytest.raises(wb.WritebackError, match="6 undisposed"):
        wb.submit_disposition(home, lead, wb.open_form(home), return_line_id="R1-1",
                              splits={"scrap": 4, "donate": 3})  # fmt: skip
    split = wb.submit_disposition(home, lead, wb.open_form(home), return_line_id="R1-1",
                                  splits={"scrap": 2, "donate": 1})  # fmt: skip
    assert len(split.event_ids) == 2
    with pytest.raises(wb.WritebackError, match="3 in pending"):
        wb.submit_disposition(home, lead, wb.open_form(home), return_line_id="R1-1",
                              splits={"scrap": 4})  # fmt: skip


def test_stale_form_refused(home: Path) -> None:
    session = wb.open_form(home)
    release(home / "warehouse.duckdb")  # write-back keeps it open read-only
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("insert into ops.publications values ('b2', now() + interval 1 second)")
    con.close()
    with pytest.raises(wb.StaleForm, match="changed since this form was opened"):
        adjust(home, "lead", -1, session=session)
    adjust(home, "lead", -1)  # a fresh form works


def test_rejected_is_never_exported_and_reject_needs_comment(home: Path) -> None:
    big = adjust(home, "lead", -60)
    with pytest.raises(wb.WritebackError, match="comment"):
        wb.reject(home, user(home, "fin"), big.submission_id, "")
    wb.reject(home, user(home, "fin"), big.submission_id, "count again")
    with pytest.raises(wb.WritebackError, match="Already rejected"):
        wb.approve(home, user(home, "root"), big.submission_id)
    assert wb.export_pending(home) == []
    assert [s["status"] for s in wb.submission_status(home)] == ["rejected"]


def test_approved_event_carries_the_chain(home: Path) -> None:
    big = adjust(home, "lead", -60, note="broken\nshelf")
    assert wb.export_pending(home) == []  # waits for approval
    assert wb.submission_status(home)[0]["status"] == "pending_approval"
    wb.approve(home, user(home, "fin"), big.submission_id, "seen it")
    assert wb.export_pending(home) == [big.submission_id]
    text = inbox.landing_file(home, "adjustment", big.submission_id).read_text()
    assert ",lead,fin" in text and "broken shelf" in text
    statuses = wb.submission_status(home)
    assert statuses[0]["status"] == "exported"
    # applied once its event id is in the published raw tables
    release(home / "warehouse.duckdb")  # write-back keeps it open read-only
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("insert into raw.stock_events values (?, now())", [big.event_ids[0]])
    con.execute("insert into ops.publications values ('b2', now() + interval 1 second)")
    con.close()
    status = wb.submission_status(home)[0]
    assert status["status"] == "applied" and status["applied_at"]
    chain = wb.approval_chains(home)[0]["approval_chain"]
    assert "submitted by lead" in chain and "approved by fin" in chain and "applied at" in chain


def test_audit_is_append_only(home: Path) -> None:
    adjust(home, "lead", -1)
    with store.connect(home) as con:
        for sql in ("update inbox set actor = 'x'", "delete from inbox"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(sql)
    log = wb.audit_log(home)
    assert [e["entry"] for e in log][-1] == "submitted"
    assert log[-1]["actor"] == "lead" and log[-1]["role"] == "warehouse_lead"
    # no code path in the package issues UPDATE or DELETE on the inbox
    src = "\n".join(p.read_text() for p in Path(wb.__file__).parent.glob("*.py"))
    assert "update inbox" not in src.lower() and "delete from inbox" not in src.lower()


def _concurrent_submit(home: str, barrier) -> str:
    lead = wb.get_user(home, "lead")
    session = wb.open_form(home)
    barrier.wait()
    sub = wb.submit_adjustment(
        home, lead, session, sku="SKU-A", node_id="DC1", state="available", quantity=-1,
        reason_code="shrink",
    )  # fmt: skip
    again = wb.submit_adjustment(
        home, lead, session, sku="SKU-A", node_id="DC1", state="available", quantity=-1,
        reason_code="shrink",
    )  # fmt: skip
    assert again.duplicate
    return sub.submission_id


def test_twenty_concurrent_processes_one_submission_each(home: Path) -> None:
    ctx = mp.get_context("spawn")
    barrier = ctx.Manager().Barrier(20)
    with ctx.Pool(20) as pool:
        ids = pool.starmap(_concurrent_submit, [(str(home), barrier)] * 20)
    assert len(set(ids)) == 20
    with ctx.Pool(4) as pool:  # concurrent exporters export each submission once
        exported = pool.map(wb.export_pending, [str(home)] * 4)
    assert sorted(i for batch in exported for i in batch) == sorted(ids)
    assert len(list((home / "landing" / "stock" / "_writeback").glob("writeback-*.csv"))) == 20
    assert not list((home / "landing" / "stock" / "_writeback").glob(".*tmp*"))
