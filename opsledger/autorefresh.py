"""Debounced refresh after write-back: submissions ask for a refresh, one worker runs it.

A submission (or an approval) calls `request_refresh`: it stamps a request file in the
home and makes sure one detached worker process runs. The worker waits until no new
request arrived for `debounce` seconds (a burst of submissions costs one refresh, a
steady stream at most one per `max_wait` seconds), takes the request and runs
`opsledger refresh`; requests that arrive during that refresh cause one more.

Why a file and a process, not a thread in the app: Streamlit reruns scripts and may run
several sessions; the request file survives all of that (and a restart), and the worker
lock (flock) guarantees one worker per home.

Enabled by `opsledger serve` (OPSLEDGER_AUTO_REFRESH=<debounce seconds>, `off` to
disable); library callers and tests do not start workers unless they ask for it.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from opsledger.core.environment import AUTO_REFRESH_ENV, environment
from opsledger.core.environment import DEFAULT_AUTO_REFRESH as DEFAULT_DEBOUNCE
from opsledger.core.paths import HomePaths

ENV = AUTO_REFRESH_ENV  # `opsledger serve` sets it (opsledger.app.serve)
REQUEST_FILE = ".refresh-requested"
WORKER_LOCK = ".autorefresh.lock"
WORKER_LOG = "autorefresh.log"


def configured_debounce() -> float | None:
    """Debounce seconds from $OPSLEDGER_AUTO_REFRESH, None when auto-refresh is off."""
    return environment().auto_refresh


def _request_path(paths: HomePaths) -> Path:
    return paths.root / REQUEST_FILE


def requested_at(home: Path | str | None) -> float | None:
    """When the newest unserved request was made (epoch seconds), or None."""
    try:
        return float(_request_path(HomePaths.at(home)).read_text(encoding="utf-8").split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _first_requested_at(paths: HomePaths) -> float | None:
    try:
        return float(_request_path(paths).read_text(encoding="utf-8").split()[1])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _stamp(paths: HomePaths) -> None:
    """Atomically record 'last first' request times; the first one bounds the wait."""
    now = time.time()
    first = _first_requested_at(paths) or now
    tmp = paths.root / f"{REQUEST_FILE}.{os.getpid()}.tmp"
    tmp.write_text(f"{now} {first}\n", encoding="utf-8")
    tmp.replace(_request_path(paths))


def request_refresh(
    home: Path | str | None, debounce: float | None = None, spawn: bool = True
) -> bool:
    """Ask for a refresh soon. Returns False when auto-refresh is off (nothing asked)."""
    debounce = configured_debounce() if debounce is None else debounce
    if debounce is None:
        return False
    paths = HomePaths.at(home).ensure()
    _stamp(paths)
    if spawn and not worker_running(paths.root):
        log = (paths.root / WORKER_LOG).open("a", encoding="utf-8")
        subprocess.Popen(  # detached: it outlives the Streamlit rerun that asked for it
            [sys.executable, "-m", "opsledger.autorefresh", str(paths.root), str(debounce)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
        log.close()
    return True


def worker_running(home: Path | str | None) -> bool:
    lock = HomePaths.at(home).root / WORKER_LOCK
    if not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def take_request(paths: HomePaths, seen: float) -> bool:
    """Consume the request if it is still the one we waited on (no newer stamp)."""
    if requested_at(paths.root) != seen:
        return False
    try:
        _request_path(paths).unlink()
    except FileNotFoundError:
        return False
    return True


def serve_requests(
    home: Path | str | None,
    debounce: float = DEFAULT_DEBOUNCE,
    max_wait: float | None = None,
    refresh: Callable[[Path], object] | None = None,
    poll: float = 0.2,
) -> int:
    """Run refreshes while requests are pending; returns how many ran. Exits at once when
    another worker holds the lock (that one serves the request)."""
    paths = HomePaths.at(home).ensure()
    max_wait = max(debounce * 4, 15.0) if max_wait is None else max_wait
    # imported here: the CLI and the app import this module at start-up, the
    # refresh machinery (duckdb, dbt glue) only the worker needs
    from opsledger.refresh import RefreshBusy, run_refresh

    refresh = refresh or run_refresh
    runs = 0
    with (paths.root / WORKER_LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        while (last := requested_at(paths.root)) is not None:
            first = _first_requested_at(paths) or last
            now = time.time()
            if now < last + debounce and now < first + max_wait:
                time.sleep(min(poll, last + debounce - now))
                continue
            if not take_request(paths, last):
                continue  # a newer request came in: keep debouncing
            try:
                outcome = refresh(paths.root)
            except RefreshBusy as exc:  # a manual refresh holds the lock: retry after it
                print(f"{time.strftime('%FT%T')} refresh busy: {exc}", flush=True)
                _stamp(paths)
                time.sleep(max(debounce, 1.0))
                continue
            except Exception as exc:  # logged; the last good warehouse stays published
                print(f"{time.strftime('%FT%T')} refresh crashed: {exc!r}", flush=True)
                continue
            runs += 1
            status = getattr(outcome, "status", outcome)
            print(f"{time.strftime('%FT%T')} refresh {runs}: {status}", flush=True)
    # a request stamped after our last look but before the unlock would be orphaned
    if requested_at(paths.root) is not None:
        runs += serve_requests(paths.root, debounce, max_wait, refresh, poll)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve debounced refresh requests of a home.")
    parser.add_argument("home", type=Path)
    parser.add_argument("debounce", type=float, nargs="?", default=DEFAULT_DEBOUNCE)
    args = parser.parse_args(argv)
    runs = serve_requests(args.home, args.debounce)
    print(json.dumps({"refreshes": runs}), flush=True)


if __name__ == "__main__":
    main()
