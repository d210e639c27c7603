"""The live feed continues the same simulated world: a back-fill cut at T0 plus what
the feed emits up to T1 holds exactly the events of a back-fill cut at T1 (orders,
procurement, returns, finance), every emitted file loads whole, nothing is dated
after T1, and a stock row arrives only once its sender has recorded it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from opsledger.ingest.pipeline import run_ingest
from opsledger.ingest.simulator.generate import generate
from opsledger.ingest.simulator.live import LiveFeed

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=6)
SOURCES = ("orders", "procurement", "returns", "finance")


def _ids(home: Path, source: str) -> set[str]:
    con = duckdb.connect(str(home / "raw.duckdb"), read_only=True)
    try:
        return {
            r[0] for r in con.execute(f"select event_id from raw.raw.{source}_events").fetchall()
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, LiveFeed, dict]:
    fed, cut = tmp_path_factory.mktemp("fed"), tmp_path_factory.mktemp("cut")
    tail: dict = {}
    summary = generate(fed, scale=0.01, seed=2, imperfection_rate=0.0, now=T0, live=tail)
    clock = summary["live"]
    feed = LiveFeed.after(fed / "landing", clock["epoch0"], clock["cutoff"], tail)
    emitted = [feed.emit(clock["cutoff"] + 3 * 3600), feed.emit(clock["cutoff"] + 6 * 3600)]
    generate(cut, scale=0.01, seed=2, imperfection_rate=0.0, now=T1, live={})
    return fed, cut, feed, {"ingest": run_ingest(fed), "emitted": emitted, "clock": clock}


def test_the_feed_emits_whole_files_that_load_without_loss(homes) -> None:
    fed, _, feed, info = homes
    assert all(info["emitted"]) and feed.files, info["emitted"]
    assert not list((fed / "landing").rglob(".*.tmp"))
    ingest = info["ingest"]
    assert ingest.duplicates == ingest.quarantined == 0
    assert ingest.loaded == ingest.rows_read
    assert sum(feed.rows.values()) == sum(sum(e.values()) for e in info["emitted"])


def test_back_fill_plus_feed_equals_a_later_back_fill(homes) -> None:
    fed, cut, _, _ = homes
    run_ingest(cut)
    for source in SOURCES:
        assert _ids(fed, source) == _ids(cut, source), source


def test_nothing_arrives_before_its_time(homes) -> None:
    fed, _, _, _ = homes
    con = duckdb.connect(str(fed / "raw.duckdb"), read_only=True)
    try:
        for source in (*SOURCES, "stock"):
            (future,) = con.execute(
                f"select count(*) from raw.raw.{source}_events where event_time >= ?", [T1]
            ).fetchone()
            assert future == 0, source
        (late_recorded,) = con.execute(
            "select count(*) from raw.raw.stock_events where recorded_at >= ?", [T1]
        ).fetchone()
        assert late_recorded == 0
    finally:
        con.close()
