"""`opsledger watch` on a real published home: idle when nothing arrives, publishes a
landing file of 100 events and a write-back submission on its own, survives a refresh that crashes (the last
good publication stays), recovers on the next arrival, and stops on SIGTERM."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from benchmarks.arrivals import drop_found_stock
from opsledger import autorefresh
from opsledger import writeback as wb
from opsledger.core.paths import HomePaths
from opsledger.watch import pending_files

pytestmark = pytest.mark.slow


class Watcher:
    def __init__(self, home: Path, log: Path) -> None:
        self.log = log
        self.handle = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "opsledger.watch", str(home),
             "--debounce", "0.5", "--poll", "0.2", "--retry-after", "3600"],
            stdout=self.handle, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def events(self) -> list[dict]:
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_for(self, event: str, after: int, timeout: float = 600) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [e for e in self.events()[after:] if e["event"] == event]
            if found:
                return found[0]
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.2)
        pytest.fail(f"no {event!r} within {timeout} s: {self.log.read_text()[-3000:]}")


def _published(home: Path) -> tuple[str, dict[tuple[str, str], int]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        (build_id,) = con.execute(
            "select build_id from ops.publications order by published_at desc limit 1"
        ).fetchone()
        on_hand = con.execute(
            "select sku, node_id, sum(quantity)::bigint from marts.fct_stock_on_hand "
            "where state = 'available' and node_id = 'DC1' group by all"
        ).fetchall()
    finally:
        con.close()
    return build_id, {(s, n): q for s, n, q in on_hand}


def test_watch_publishes_arrivals_survives_a_crash_and_stops_on_sigterm(
    real_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(real_home, home)  # copy2 keeps mtimes: ingest's record still matches
    assert pending_files(HomePaths.at(home)) == set()
    first_build, before = _published(home)
    skus = sorted(s for s, _ in before)[:10]
    watcher = Watcher(home, tmp_path / "watch.log")
    try:
        watcher.wait_for("watching", 0, timeout=120)
        time.sleep(3)  # nothing pending: an idle watcher refreshes nothing
        assert [e["event"] for e in watcher.events()] == ["watching"]

        mark = len(watcher.events())
        started = time.time()
        drop_found_stock(home, "live", "found-1", skus)
        done = watcher.wait_for("published", mark)
        print(
            f"100 events -> published in {time.time() - started:.1f} s (refresh {done['seconds']} s)"
        )
        build, after = _published(home)
        assert build != first_build
        for sku in skus:  # 10 units each: 100 events over 10 SKUs
            assert after[(sku, "DC1")] == before[(sku, "DC1")] + 10, sku

        # a refresh that crashes: the raw layer is damaged, then a file arrives
        raw = home / "raw.duckdb"
        shutil.copyfile(raw, tmp_path / "raw.bak")
        raw.write_bytes(b"not a database" * 1000)
        mark = len(watcher.events())
        drop_found_stock(home, "live", "found-2", skus)
        crashed = watcher.wait_for("crashed", mark)
        assert "ingest failed" in crashed["error"] or "database" in crashed["error"].lower()
        time.sleep(3)  # the same files failed: no retry loop until something new arrives
        assert [e["event"] for e in watcher.events()[mark:]] == ["refresh", "crashed"]
        assert _published(home)[0] == build  # the last good publication stays

        # repaired, the next arrival publishes both files
        shutil.copyfile(tmp_path / "raw.bak", raw)
        mark = len(watcher.events())
        drop_found_stock(home, "live", "found-3", skus)
        watcher.wait_for("published", mark)
        _, final = _published(home)
        for sku in skus:
            assert final[(sku, "DC1")] == before[(sku, "DC1")] + 30, sku

        # a warehouse lead's submission: the app asks for a refresh, the watcher serves it
        wb.users_add(home, "lead", "warehouse_lead", "lead-password")
        lead = wb.get_user(home, "lead")
        sku = skus[0]
        wb.submit_adjustment(
            home, lead, wb.open_form(home), sku=sku, node_id="DC1", state="available",
            quantity=2, reason_code="found", note="watch test",
        )  # fmt: skip
        mark = len(watcher.events())
        started = time.time()
        assert autorefresh.request_refresh(home, debounce=0.5)
        assert autorefresh.worker_running(home)  # the watcher holds the worker lock
        served = watcher.wait_for("published", mark)
        print(f"write-back -> published in {time.time() - started:.1f} s")
        assert watcher.events()[mark]["writeback_request"] is True
        assert _published(home)[1][(sku, "DC1")] == final[(sku, "DC1")] + 2
        assert served["status"] == "published"

        watcher.proc.send_signal(signal.SIGTERM)
        assert watcher.proc.wait(timeout=30) == 0
        assert watcher.events()[-1]["event"] == "stopped"
    finally:
        if watcher.proc.poll() is None:
            watcher.proc.kill()
        watcher.handle.close()
