"""Data tests check what a build wrote (issue 21), on real refreshes of a simulated home.

A continued refresh audits per build: the incremental tables' rows carry the build
that wrote them (`_build_id`), per-row tests read the rows of this build, key tests
the keys it wrote against the whole table, the invariants spanning history what it
touched. A full audit (every test on every row, every quality suite) runs on a full
refresh, when asked and once per `[audit] full_audit_every_hours`; the publication
records which one it had.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from benchmarks.hold_back import deliver_held_back, event_times, hold_back_newest
from opsledger.core.paths import HomePaths
from opsledger.ingest.simulator.config import REFERENCE_END
from opsledger.refresh import AUDIT_BUILD, AUDIT_FULL, _audit_kind, run_refresh
from opsledger.status import read_status

pytestmark = pytest.mark.slow

SCALE = 0.02


def _published_build(home: Path) -> str:
    con = duckdb.connect(str(HomePaths.at(home).warehouse), read_only=True)
    try:
        return con.execute(
            "select build_id from ops.publications order by published_at desc limit 1"
        ).fetchone()[0]
    finally:
        con.close()


def _copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "builds"))
    return target


@pytest.fixture(scope="module")
def audited_home(tmp_path_factory) -> dict:
    """A simulated home published twice: in full from all but its newest 2% of
    events, then per build once those arrived."""
    from opsledger.ingest.simulator import generate

    home = tmp_path_factory.mktemp("audited-home")
    generate(home, scale=SCALE, seed=1, end=REFERENCE_END)
    events = sum(len(event_times(p)) for p in (home / "landing").glob("*/*/*") if p.is_file())
    assert hold_back_newest(home, 0.02, events)["held_back"] > 0
    first = run_refresh(home)
    assert first.published, first.to_dict()
    assert deliver_held_back(home) > 0
    second = run_refresh(home)
    assert second.published, second.to_dict()
    return {"home": home, "first": first, "second": second}


def test_first_refresh_is_a_full_audit_then_per_build(audited_home):
    first, second = audited_home["first"], audited_home["second"]
    assert first.full_refresh and first.audit == AUDIT_FULL
    assert first.last_full_audit_at is not None
    assert second.full_refresh is False
    assert second.audit == AUDIT_BUILD and second.audit_reason == ""
    # the last full audit is the first publication's
    assert second.last_full_audit_at == first.last_full_audit_at
    status = read_status(audited_home["home"])
    assert status["published"]["build_id"] == second.build_id
    assert status["published"]["audit"] == AUDIT_BUILD
    assert (
        status["published"]["last_full_audit_at"]
        .replace(" ", "T")
        .startswith(first.last_full_audit_at)
    )
    assert status["last_refresh"]["audit"] == AUDIT_BUILD
    saved = json.loads((audited_home["home"] / "last_refresh.json").read_text())
    assert saved["audit"] == AUDIT_BUILD
    # a per-build audit runs the landing suites, not the marts' (whole tables)
    con = duckdb.connect(str(HomePaths.at(audited_home["home"]).warehouse), read_only=True)
    try:
        suites = dict(
            con.execute(
                "select run_id, list(distinct suite order by suite) from ops.gate_results"
                " group by run_id"
            ).fetchall()
        )
        written = dict(
            con.execute(
                "select _build_id = ?, count(*) from marts.fct_gl_entries group by 1",
                [second.build_id],
            ).fetchall()
        )
    finally:
        con.close()
    assert "marts_row_counts" in suites[first.build_id]
    assert "marts_row_counts" not in suites[second.build_id]
    assert any(s.startswith("landing") for s in suites[second.build_id])
    # the second build rewrote the ledger from its first changed day, and kept the rest
    assert written.get(True, 0) > 0 and written.get(False, 0) > 0


def _incremental_models(home: Path) -> set[str]:
    """schema.table of every incremental model of the project, from the build's manifest."""
    manifest = json.loads(
        (HomePaths.at(home).builds / "dbt" / "target" / "manifest.json").read_text()
    )
    return {
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }


def test_incremental_rows_name_their_build(audited_home):
    """Every incremental table carries _build_id; the rows the second build wrote name
    it, the others the first build."""
    first, second = audited_home["first"], audited_home["second"]
    con = duckdb.connect(str(HomePaths.at(audited_home["home"]).warehouse), read_only=True)
    try:
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_columns()"
            " where column_name = '_build_id' and schema_name in ('intermediate', 'marts')"
        ).fetchall()
        assert {table for (table,) in tables} == _incremental_models(audited_home["home"])
        for (table,) in tables:
            ids = {
                row[0] for row in con.execute(f"select distinct _build_id from {table}").fetchall()
            }
            assert ids <= {first.build_id, second.build_id}, (table, ids)
        ids = {
            r[0] for r in con.execute("select distinct _build_id from marts.fct_orders").fetchall()
        }
        assert ids == {first.build_id, second.build_id}
    finally:
        con.close()


def test_a_broken_row_of_a_build_blocks_publication(audited_home, tmp_path):
    """A shipment of held stock (quality_hold -> customer, a transition the domain
    does not allow) reaches raw the way a loader that skips ingest's validation would
    write it (ingest itself quarantines it): every field is well-formed, so staging
    passes it through, and the incremental fct_stock_movements holds it. The
    per-build invariant (the movements this build wrote) fails and nothing is
    published."""
    home = _copy_home(audited_home["home"], tmp_path / "home")
    before = _published_build(home)
    con = duckdb.connect(str(HomePaths.at(home).raw_db))
    try:
        event_id = con.execute(
            """
            insert into raw.raw.stock_events
            select * replace (
                event_id || '-held' as event_id,
                'quality_hold' as from_state,
                'loader-without-validation' as batch_id,
                now() as ingested_at
            )
            from raw.raw.stock_events
            where event_type = 'shipped'
            order by event_time desc, event_id
            limit 1
            returning event_id
            """
        ).fetchone()[0]
    finally:
        con.close()

    result = run_refresh(home)
    assert result.audit == AUDIT_BUILD and result.full_refresh is False
    assert not result.published
    failed = {f["name"]: f for f in result.dbt_failures}
    assert "assert_stock_movements_allowed_transitions" in failed, sorted(failed)
    rows = failed["assert_stock_movements_allowed_transitions"]["rows"]
    assert [(r["event_id"], r["_build_id"]) for r in rows] == [(event_id, result.build_id)]
    assert _published_build(home) == before


def test_full_audit_catches_a_broken_invariant_in_untouched_history(audited_home, tmp_path):
    """An old journal line of the published ledger is changed behind the warehouse's
    back (one debit, a year before the data's end). A refresh with nothing new audits
    what it wrote (nothing of that journal) and publishes; `--full-audit` checks
    every journal and refuses."""
    home = _copy_home(audited_home["home"], tmp_path / "home")
    con = duckdb.connect(str(HomePaths.at(home).warehouse))
    try:
        entry_id, journal_id = con.execute(
            "select entry_id, journal_id from marts.fct_gl_entries"
            " where debit > 0 order by posted_at, entry_id limit 1"
        ).fetchone()
        con.execute(
            "update marts.fct_gl_entries set debit = debit + 1 where entry_id = ?", [entry_id]
        )
    finally:
        con.close()

    per_build = run_refresh(home, force=True)  # nothing new: built anyway
    assert per_build.audit == AUDIT_BUILD
    assert per_build.published, per_build.to_dict()

    full = run_refresh(home, full_audit=True)
    assert full.audit == AUDIT_FULL and full.audit_reason == "asked"
    assert not full.published
    failed = {f["name"]: f for f in full.dbt_failures}
    assert "assert_gl_journals_balance" in failed, sorted(failed)
    assert [r["journal_id"] for r in failed["assert_gl_journals_balance"]["rows"]] == [journal_id]
    assert _published_build(home) == per_build.build_id

    # what the full audit found is still in the history: the next plain refresh
    # audits in full again (and refuses again), not per build
    again = run_refresh(home)
    assert again.audit == AUDIT_FULL and again.audit_reason == "failed_before"
    assert not again.published
    assert _published_build(home) == per_build.build_id


def test_audit_kind():
    now = datetime(2026, 1, 2, 12, 0)
    assert _audit_kind(True, 24, now, now) == (AUDIT_FULL, "asked")
    assert _audit_kind(False, 24, None, now) == (AUDIT_FULL, "first")
    assert _audit_kind(False, 24, now - timedelta(hours=23), now) == (AUDIT_BUILD, "")
    assert _audit_kind(False, 24, now - timedelta(hours=24), now) == (AUDIT_FULL, "due")
    assert _audit_kind(False, 0, now, now) == (AUDIT_FULL, "due")
    assert _audit_kind(False, 24, now, now, True) == (AUDIT_FULL, "failed_before")


def test_full_audit_every_hours_setting(tmp_path):
    from opsledger.core.settings import SettingsError, load_settings

    assert load_settings(tmp_path).full_audit_every_hours == 24
    (tmp_path / "settings.toml").write_text("[audit]\nfull_audit_every_hours = 6\n")
    assert load_settings(tmp_path).full_audit_every_hours == 6
    (tmp_path / "settings.toml").write_text("[audit]\nfull_audit_every_hours = -1\n")
    with pytest.raises(SettingsError):
        load_settings(tmp_path)
