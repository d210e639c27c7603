"""Freshness benchmark: how long until new data is visible in the published warehouse.

    python benchmarks/watch_benchmark.py HOME [--work DIR]

HOME must be a published home (e.g. `opsledger generate --scale 1` + `opsledger
refresh`); it is copied to a scratch folder first, so HOME is never changed. Prints,
each beside the plain DuckDB floor (append the same rows to a table of the published
file and read them back):

- a refresh with nothing new (`opsledger refresh`, one process, wall seconds);
- one landing file of 100 events -> visible, with `opsledger watch` running;
- one write-back submission -> visible, with `opsledger watch` running;
- each twice: the first is watch's first refresh (dbt re-parses the project, whose
  build path moved with the copied home; GX loads) and, for the write-back, the
  first event dated today in a world that may end months ago (every SKU's daily
  stock is carried over to today); the second (`*_next_s`) is the steady state.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.arrivals import drop_found_stock, latest_build
from opsledger import autorefresh
from opsledger import writeback as wb

OPSLEDGER = Path(sys.executable).with_name("opsledger")


def _wait_for_new_build(home: Path, before: str, timeout: float = 1800) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if latest_build(home) != before:
                return time.perf_counter() - started
        except duckdb.Error:
            pass  # the rename is in progress
        time.sleep(0.2)
    raise TimeoutError("nothing was published")


def _floor(home: Path, rows: int = 100) -> float:
    """Append `rows` rows to a copy of a mart in the published file's copy and read them."""
    with tempfile.TemporaryDirectory() as scratch_dir:  # a copy of the whole file
        scratch = Path(scratch_dir) / "floor.duckdb"
        shutil.copyfile(home / "warehouse.duckdb", scratch)
        con = duckdb.connect(str(scratch))
        started = time.perf_counter()
        con.execute("create table t as select * from marts.fct_stock_on_hand limit 0")
        con.execute(f"insert into t select * from marts.fct_stock_on_hand limit {rows}")
        con.execute("select count(*) from t").fetchone()
        seconds = time.perf_counter() - started
        con.close()
    return seconds


def _dc1_skus(home: Path) -> list[str]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return [r[0] for r in con.execute(
            "select distinct sku from marts.fct_stock_on_hand where node_id = 'DC1' order by 1 limit 10"
        ).fetchall()]  # fmt: skip
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="watch-bench-"))
    home = work / "home"
    shutil.copytree(args.home, home)
    figures: dict[str, float] = {"floor_append_100_rows_s": round(_floor(home), 4)}

    started = time.perf_counter()
    subprocess.run([str(OPSLEDGER), "refresh", "--home", str(home), "--json"],
                   check=True, capture_output=True)  # fmt: skip
    figures["refresh_nothing_new_s"] = round(time.perf_counter() - started, 2)

    log = (work / "watch.log").open("w")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "opsledger.watch", str(home), "--debounce", "0.5"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        time.sleep(3)
        skus = _dc1_skus(home)
        for suffix in ("", "_next"):
            before = latest_build(home)
            drop_found_stock(home, "bench", f"bench-100{suffix}", skus)
            seconds = _wait_for_new_build(home, before)
            figures[f"landing_100_events_visible{suffix}_s"] = round(seconds, 2)

        wb.users_add(home, "bench_lead", "warehouse_lead", "bench-lead-password")
        lead = wb.get_user(home, "bench_lead")
        for suffix in ("", "_next"):
            before = latest_build(home)
            started = time.perf_counter()
            wb.submit_adjustment(
                home, lead, wb.open_form(home), sku=skus[0], node_id="DC1",
                state="available", quantity=1, reason_code="found", note="benchmark",
            )  # fmt: skip
            autorefresh.request_refresh(home, debounce=0.5)
            _wait_for_new_build(home, before)
            figures[f"writeback_visible{suffix}_s"] = round(time.perf_counter() - started, 2)
    finally:
        watcher.terminate()
        watcher.wait(timeout=900)
        log.close()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
