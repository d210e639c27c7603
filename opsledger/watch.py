"""`opsledger watch`: publish landing files as they arrive.

A long-running loop over one home. Every `poll` seconds it lists the landing files
ingest would read (`opsledger.ingest.files.discover`) and subtracts those ingest has
already recorded (`raw.ingest_files`: path, size, mtime); what is left is pending.
Once the pending set has stopped changing for `debounce` seconds (a source writing a
burst of files costs one refresh; a steady trickle at most one per `max_wait`), it
runs one refresh. When the clock alone changes a node's staleness (the publication's
earliest `judged_until`, marts.fct_node_freshness) it refreshes too, so a feed that
goes quiet is published as stale within a poll. Write-back submissions ask for a refresh through the request file
of `opsledger.autorefresh`; the watcher holds that module's worker lock, so it serves
those requests itself and no separate worker starts.

A refresh that fails (build or gate) or raises is logged and the last good
publication stays; the watcher retries when something new arrives (or after
`retry_after` seconds for a crash that left the files pending). SIGTERM and SIGINT
stop it cleanly: a refresh in flight is finished first (a kill -9 is safe too, as
publication is atomic), then the loop exits with status 0.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb

from opsledger.autorefresh import WORKER_LOCK, requested_at, take_request
from opsledger.core.paths import HomePaths
from opsledger.ingest.files import LandingFile, discover
from opsledger.models.domain import load_domain
from opsledger.nothing_new import clock_now, judgement_expires

DEFAULT_DEBOUNCE = 2.0
DEFAULT_POLL = 0.5
WATCH_LOG = "watch.log"

FileKey = tuple[str, int, int]  # path relative to landing/, size, mtime_ns


@dataclass
class WatchReport:
    refreshes: int = 0
    published: int = 0
    unchanged: int = 0  # refreshes that found the publication current (nothing new)
    failed: int = 0
    log: list[dict] = field(default_factory=list)


def pending_files(paths: HomePaths) -> set[FileKey] | None:
    """Landing files ingest has not recorded yet; None when raw.duckdb is being
    written (a refresh or ingest of another process holds it): ask again later."""
    found = {(f.rel, f.size, f.mtime_ns) for f in _discover(paths)}
    if not found or not paths.raw_db.exists():
        return found
    try:
        con = duckdb.connect(str(paths.raw_db), read_only=True)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            return None
        return found  # unreadable: the refresh will say why (and the watcher log it)
    try:
        seen = set(
            con.execute("SELECT path, size, mtime_ns FROM raw.raw.ingest_files").fetchall()
        )  # catalog raw, schema raw
    except duckdb.Error:
        # no ingest_files (a raw file from before ingest recorded files), or damaged
        # or being replaced: all pending, the refresh will say why (and be logged)
        seen = set()
    finally:
        con.close()
    return found - seen


@lru_cache(maxsize=1)
def _domain():
    return load_domain()


def _discover(paths: HomePaths) -> list[LandingFile]:
    return discover(paths.landing, _domain())


def _still_pending(paths: HomePaths, before: set[FileKey]) -> set[FileKey]:
    after = pending_files(paths)
    return before if after is None else after


class _Stop:
    """Set by SIGTERM/SIGINT; the loop checks it between refreshes."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum, _frame) -> None:
        self.requested = True


def watch(
    home: Path | str | None,
    debounce: float = DEFAULT_DEBOUNCE,
    poll: float = DEFAULT_POLL,
    max_wait: float | None = None,
    retry_after: float = 60.0,
    refresh: Callable[[Path], object] | None = None,
    stop: Callable[[], bool] | None = None,
    say: Callable[[dict], None] | None = None,
) -> WatchReport:
    """Run until `stop()` is true or a signal arrives; returns what it did."""
    from opsledger.refresh import RefreshBusy, run_refresh

    paths = HomePaths.at(home).ensure()
    refresh = refresh or run_refresh
    max_wait = max(debounce * 4, 15.0) if max_wait is None else max_wait
    stopper = _Stop()
    previous = {}
    if threading.current_thread() is threading.main_thread():  # signals reach only it
        previous = {s: signal.signal(s, stopper) for s in (signal.SIGTERM, signal.SIGINT)}
    report = WatchReport()

    def note(event: str, **fields) -> None:
        entry = {"at": time.strftime("%Y-%m-%dT%H:%M:%S"), "event": event, **fields}
        report.log.append(entry)
        if say:
            say(entry)

    last_seen: set[FileKey] | None = None
    changed_at = first_pending_at = 0.0
    failed_on: set[FileKey] | None = None  # the pending set a failed refresh left
    failed_at = 0.0
    # when the clock alone changes a node's staleness, the publication is refreshed
    # so the alert is published then, not at the next arrival (once per expiry)
    expires, acted_on = judgement_expires(paths.warehouse), None
    try:
        with (paths.root / WORKER_LOCK).open("a") as lock:
            # one refresher per home: with the lock held, write-back requests come here
            fcntl.flock(lock, fcntl.LOCK_EX)
            note("watching", home=str(paths.root), debounce=debounce)
            while not stopper.requested and not (stop and stop()):
                now = time.time()
                pending = pending_files(paths)
                request = requested_at(paths.root)
                clock_due = expires is not None and expires != acted_on and clock_now() >= expires
                if pending is None or (not pending and request is None and not clock_due):
                    last_seen, first_pending_at = None, 0.0
                    time.sleep(poll)
                    continue
                if pending != last_seen:
                    last_seen, changed_at = pending, now
                    first_pending_at = first_pending_at or now
                quiet_since = max(changed_at, request or 0.0)
                if now < quiet_since + debounce and now < first_pending_at + max_wait:
                    time.sleep(poll)
                    continue
                if pending and pending == failed_on and now < failed_at + retry_after:
                    time.sleep(poll)  # the same files failed: wait for more, or the retry time
                    continue
                if request is not None:
                    take_request(paths, request)
                started = time.perf_counter()
                note(
                    "refresh",
                    files=len(pending),
                    writeback_request=request is not None,
                    staleness_due=clock_due,
                )
                try:
                    outcome = refresh(paths.root)
                except RefreshBusy as exc:  # a manual refresh runs: ours follows it
                    note("busy", message=str(exc))
                    time.sleep(max(debounce, 1.0))
                    continue
                except Exception as exc:  # logged; the last good publication stays
                    report.refreshes += 1
                    report.failed += 1
                    failed_on, failed_at = _still_pending(paths, pending), time.time()
                    note("crashed", error=f"{type(exc).__name__}: {exc}")
                else:
                    report.refreshes += 1
                    published = bool(getattr(outcome, "published", False))
                    current = bool(getattr(outcome, "current", published))
                    report.published += published
                    report.unchanged += current and not published
                    report.failed += not current
                    failed_on = None if current else _still_pending(paths, pending)
                    failed_at = time.time()
                    note(
                        "published" if published else "unchanged" if current else "not_published",
                        status=getattr(outcome, "status", None),
                        message=getattr(outcome, "message", None),
                        seconds=round(time.perf_counter() - started, 3),
                    )
                last_seen, first_pending_at = None, 0.0
                acted_on = expires if clock_due else acted_on
                expires = judgement_expires(paths.warehouse)
            note("stopped")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Publish landing files of a home as they arrive.")
    parser.add_argument("home", type=Path)
    parser.add_argument("--debounce", type=float, default=DEFAULT_DEBOUNCE)
    parser.add_argument("--poll", type=float, default=DEFAULT_POLL)
    parser.add_argument("--retry-after", type=float, default=60.0)
    args = parser.parse_args(argv)
    watch(
        args.home, args.debounce, args.poll, retry_after=args.retry_after,
        say=lambda e: print(json.dumps(e), flush=True),
    )  # fmt: skip


if __name__ == "__main__":
    main()
