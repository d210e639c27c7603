"""A live feed: the same simulated world goes on delivering its events in real time.

`generate(..., live=tail)` simulates a year that ends tomorrow, writes the back-fill
up to now and hands over the rest: the events that happen after now, and the stock
rows that happened earlier but that their sender (the 3PL between syncs, a store in
an outage) has not recorded yet. `LiveFeed.emit` writes, per source, one landing file
with the rows whose time has come (`_due`: event time, or for stock the sender's
recorded_at), so the watcher publishes them as they arrive. Files are written under
a temporary name and renamed, so ingest never reads half a file; a feed stopped
between two emits has written whole files only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from opsledger.models.domain import load_domain

from .layout import FORMAT_EXT
from .writers import encode_file

DOMAIN = load_domain()
LIVE_FOLDER = "live"


@dataclass
class LiveFeed:
    landing: Path
    epoch0: int  # unix seconds of the simulated t = 0
    sent_until: int  # simulated seconds: everything due before this is written
    tail: dict[str, pl.DataFrame]  # per source, rows not delivered yet, with `_due`
    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def after(cls, landing: Path, epoch0: int, cutoff: int, tail: dict[str, pl.DataFrame]):
        return cls(landing, epoch0, cutoff, {s: df.sort("_due") for s, df in tail.items()})

    def pending(self) -> int:
        return sum(df.height for df in self.tail.values())

    def emit(self, until: int | None = None) -> dict[str, int]:
        """Write the rows due before `until` (simulated seconds; default: now) as one new
        file per source; returns the rows written per source."""
        until = int(time.time()) - self.epoch0 if until is None else until
        if until <= self.sent_until:
            return {}
        written: dict[str, int] = {}
        stamp = datetime.fromtimestamp(self.epoch0 + until, tz=UTC).strftime("%Y%m%dT%H%M%S")
        for source, df in self.tail.items():
            due = df.filter(pl.col("_due") < until)
            if due.height == 0:
                continue
            fmt = DOMAIN.sources[source].format
            part = due.sort("_t", "event_id").with_columns(_kind=pl.lit(""))
            rel = f"{source}/{LIVE_FOLDER}/{source}-live-{stamp}{FORMAT_EXT[fmt]}"
            _write_atomically(self.landing / rel, encode_file(part, source, fmt, self.epoch0))
            self.tail[source] = df.filter(pl.col("_due") >= until)
            self.files.append(rel)
            self.rows[source] = self.rows.get(source, 0) + due.height
            written[source] = due.height
        self.sent_until = until
        return written

    def run(
        self,
        every: float = 5.0,
        stop: Callable[[], bool] = lambda: False,
        say: Callable[[dict[str, int]], None] | None = None,
    ) -> None:
        """Emit every `every` seconds until `stop()` or nothing is left."""
        while not stop() and self.pending():
            written = self.emit()
            if written and say:
                say(written)
            time.sleep(every)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
