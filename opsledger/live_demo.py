"""`opsledger demo --live`: a back-fill whose world goes on, fed into landing/ while
the app (and its watcher) run. Ctrl-C stops the feed between two whole files."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from opsledger.ingest.simulator.generate import generate
from opsledger.ingest.simulator.live import LiveFeed


def back_fill(home: Path, scale: float, seed: int, imperfections: float = 0.002) -> LiveFeed:
    """Write the year up to now into landing/; the feed holds what comes after."""
    tail: dict[str, pl.DataFrame] = {}
    summary = generate(home, scale=scale, seed=seed, imperfection_rate=imperfections, live=tail)
    clock = summary["live"]
    return LiveFeed.after(home / "landing", clock["epoch0"], clock["cutoff"], tail)


@contextmanager
def feeding(
    feed: LiveFeed, every: float, say: Callable[[dict[str, int]], None] | None = None
) -> Iterator[threading.Thread]:
    """Run the feed in a thread for the duration of the block (the app's foreground)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=feed.run, kwargs={"every": every, "stop": stop.is_set, "say": say}, daemon=True
    )
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=every + 30)
