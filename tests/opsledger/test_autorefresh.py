"""The debounced refresh scheduler: bursts coalesce, late requests are not lost, one
worker per home. The refresh itself is replaced by a recorder here (the browser
write-back test runs the real worker and refresh end to end)."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

import pytest

from opsledger import autorefresh
from opsledger.refresh import RefreshBusy


class Recorder:
    def __init__(self, seconds: float = 0.0, busy_first: bool = False) -> None:
        self.calls: list[float] = []
        self.seconds = seconds
        self.busy_first = busy_first

    def __call__(self, home: Path) -> str:
        if self.busy_first:
            self.busy_first = False
            raise RefreshBusy("another refresh is running in this home")
        self.calls.append(time.time())
        time.sleep(self.seconds)
        return "published"


def test_off_unless_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(autorefresh.ENV, raising=False)
    assert autorefresh.configured_debounce() is None
    assert autorefresh.request_refresh(tmp_path, spawn=False) is False
    assert autorefresh.requested_at(tmp_path) is None
    for value, expected in (("2.5", 2.5), ("off", None), ("0", None), ("on", 3.0)):
        monkeypatch.setenv(autorefresh.ENV, value)
        assert autorefresh.configured_debounce() == expected


def test_a_burst_of_requests_costs_one_refresh(tmp_path: Path) -> None:
    for _ in range(5):
        assert autorefresh.request_refresh(tmp_path, debounce=0.5, spawn=False)
        time.sleep(0.05)
    started = time.time()
    recorder = Recorder()
    assert autorefresh.serve_requests(tmp_path, debounce=0.5, refresh=recorder) == 1
    assert len(recorder.calls) == 1
    assert recorder.calls[0] - started >= 0.3  # waited for quiet, not for the first request
    assert autorefresh.requested_at(tmp_path) is None


def test_a_request_during_a_refresh_gets_its_own_refresh(tmp_path: Path) -> None:
    autorefresh.request_refresh(tmp_path, debounce=0.2, spawn=False)
    recorder = Recorder(seconds=1.0)
    late = threading.Timer(
        0.6, lambda: autorefresh.request_refresh(tmp_path, debounce=0.2, spawn=False)
    )
    late.start()
    runs = autorefresh.serve_requests(tmp_path, debounce=0.2, refresh=recorder)
    late.join()
    assert runs == 2
    assert recorder.calls[1] - recorder.calls[0] >= 1.0


def test_a_steady_stream_is_served_within_max_wait(tmp_path: Path) -> None:
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            autorefresh.request_refresh(tmp_path, debounce=0.5, spawn=False)
            time.sleep(0.1)

    autorefresh.request_refresh(tmp_path, debounce=0.5, spawn=False)
    asker = threading.Thread(target=keep_asking)
    asker.start()
    recorder = Recorder()
    started = time.time()

    def once(home: Path) -> str:
        stop.set()
        return recorder(home)

    try:
        autorefresh.serve_requests(tmp_path, debounce=0.5, max_wait=1.5, refresh=once)
    finally:
        stop.set()
        asker.join()
    assert 1.3 <= recorder.calls[0] - started < 3.0


def test_busy_refresh_is_retried(tmp_path: Path) -> None:
    autorefresh.request_refresh(tmp_path, debounce=0.1, spawn=False)
    recorder = Recorder(busy_first=True)
    assert autorefresh.serve_requests(tmp_path, debounce=0.1, refresh=recorder) == 1


def test_one_worker_per_home(tmp_path: Path) -> None:
    autorefresh.request_refresh(tmp_path, debounce=0.1, spawn=False)
    recorder = Recorder()
    with (tmp_path / autorefresh.WORKER_LOCK).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert autorefresh.worker_running(tmp_path)
        assert autorefresh.serve_requests(tmp_path, debounce=0.1, refresh=recorder) == 0
    assert not autorefresh.worker_running(tmp_path)
    assert recorder.calls == []
    assert autorefresh.requested_at(tmp_path) is not None  # left for the lock holder
