"""A refresh with nothing new keeps the publication (no build) exactly when a build
would publish the same judgement; anything new in raw, a changed project, another
engine or a node whose staleness the clock changes builds (opsledger.nothing_new)."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from opsledger.core.environment import CLOCK_ENV
from opsledger.core.paths import HomePaths
from opsledger.ingest.pipeline import run_ingest
from opsledger.nothing_new import check_current, judgement_expires
from opsledger.refresh import run_refresh
from opsledger.watch import watch

pytestmark = pytest.mark.slow


def _copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "builds"))
    return target


def _judgements(home: Path) -> dict[str, tuple[bool, bool]]:
    con = duckdb.connect(str(HomePaths.at(home).warehouse), read_only=True)
    try:
        rows = con.execute(
            "select node_id, feed_mode = 'live', is_stale from marts.fct_node_freshness"
        ).fetchall()
    finally:
        con.close()
    return {node: (live, stale) for node, live, stale in rows}


def _data_ends_at(home: Path):
    con = duckdb.connect(str(HomePaths.at(home).warehouse), read_only=True)
    try:
        return con.execute("select max(data_ends_at) from marts.fct_node_freshness").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def live_home(real_home: Path, tmp_path_factory) -> dict:
    """The session's published home rebuilt on a clock 5 minutes after its data ends:
    a live feed, so the clock decides every node's staleness."""
    home = _copy_home(real_home, tmp_path_factory.mktemp("nothing-new") / "home")
    clock = _data_ends_at(home) + timedelta(minutes=5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CLOCK_ENV, clock.isoformat())
        built = run_refresh(home, force=True)
    assert built.published, built.to_dict()
    until = judgement_expires(HomePaths.at(home).warehouse)
    assert until is not None and until > clock
    return {"home": home, "clock": clock, "until": until, "judged": _judgements(home)}


def test_a_back_fill_publication_is_current_until_raw_changes(real_home, tmp_path):
    home = _copy_home(real_home, tmp_path / "home")
    paths = HomePaths.at(home)
    now = _data_ends_at(home) + timedelta(days=400)  # a back-fill: the clock changes nothing
    assert judgement_expires(paths.warehouse) is None
    verdict = check_current(paths, "duckdb", now)
    assert verdict.current, verdict
    assert check_current(paths, "spark", now).reason == "the publication was built by duckdb"

    # one new landing file, ingested: its rows are new in raw
    stock = sorted((home / "landing" / "stock").rglob("*.csv"))[0]
    lines = stock.read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1]
    (home / "landing" / "stock" / "zz-new.csv").write_text(
        f"{header}\n{first.replace(first.split(',')[0], 'nothing-new-1', 1)}\n", encoding="utf-8"
    )
    run_ingest(home)
    verdict = check_current(paths, "duckdb", now)
    assert not verdict.current
    assert "ingest_files" in verdict.reason  # loaded, or quarantined with its reason
    assert "stock_events" in verdict.reason or "quarantine" in verdict.reason


def test_bookkeeping_changed_in_place_is_not_current(real_home, tmp_path):
    """A quarantined row released (updated in place, no new batch yet) counts."""
    home = _copy_home(real_home, tmp_path / "home")
    paths = HomePaths.at(home)
    con = duckdb.connect(str(paths.raw_db))
    try:
        con.execute(
            "update raw.raw.quarantine set released_at = now(), release_outcome = 'duplicate'"
            " where quarantine_id = (select min(quarantine_id) from raw.raw.quarantine)"
        )
    finally:
        con.close()
    verdict = check_current(paths, "duckdb", _data_ends_at(home))
    assert not verdict.current and verdict.reason == "new in raw: quarantine"


def test_a_changed_project_is_not_current(real_home, tmp_path):
    home = _copy_home(real_home, tmp_path / "home")
    paths = HomePaths.at(home)
    con = duckdb.connect(str(paths.warehouse))
    try:
        con.execute("update ops.dbt_project set fingerprint = 'built by other code'")
    finally:
        con.close()
    verdict = check_current(paths, "duckdb", _data_ends_at(home))
    assert (verdict.current, verdict.reason) == (False, "the dbt project changed")


def test_judged_until_is_exact(live_home, tmp_path, monkeypatch):
    """A second before the earliest judged_until a build judges every node as the
    publication does (so skipping it is right); at judged_until one node's judgement
    changes (so the refresh builds and publishes it)."""
    home = _copy_home(live_home["home"], tmp_path / "home")
    until = live_home["until"]

    monkeypatch.setenv(CLOCK_ENV, (until - timedelta(seconds=1)).isoformat())
    kept = run_refresh(home)
    assert (kept.status, kept.current) == ("unchanged", True), kept.to_dict()
    assert f"{until:%Y-%m-%d %H:%M}" in kept.message
    rebuilt = run_refresh(home, force=True)  # what the skipped build would have judged
    assert rebuilt.published, rebuilt.to_dict()
    assert _judgements(home) == live_home["judged"]

    monkeypatch.setenv(CLOCK_ENV, until.isoformat())
    due = run_refresh(home)
    assert due.published and due.status == "published", due.to_dict()
    after = _judgements(home)
    assert after != live_home["judged"]
    flipped = {n for n in after if after[n] != live_home["judged"][n]}
    assert flipped and all(after[n][1] or not after[n][0] for n in flipped)  # stale or back-fill
    assert judgement_expires(HomePaths.at(home).warehouse) > until


def test_watch_publishes_a_node_going_stale_without_any_arrival(live_home, tmp_path, monkeypatch):
    home = _copy_home(live_home["home"], tmp_path / "home")
    monkeypatch.setenv(CLOCK_ENV, live_home["until"].isoformat())
    done = threading.Event()
    events: list[dict] = []

    def say(entry: dict) -> None:
        events.append(entry)
        if entry["event"] in ("published", "unchanged", "not_published", "crashed"):
            done.set()

    thread = threading.Thread(
        target=watch, kwargs={"home": home, "debounce": 0.2, "poll": 0.1, "stop": done.is_set,
                              "say": say},
        daemon=True,
    )  # fmt: skip
    started = time.monotonic()
    thread.start()
    thread.join(timeout=600)
    assert not thread.is_alive()
    refreshes = [e for e in events if e["event"] == "refresh"]
    assert len(refreshes) == 1 and refreshes[0]["staleness_due"] is True, events
    assert refreshes[0]["files"] == 0 and events[-2]["event"] == "published", events
    assert _judgements(home) != live_home["judged"]
    assert time.monotonic() - started < 600
