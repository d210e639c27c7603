"""Which file each row goes to: month files per sender, delayed 3PL batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from .config import DAY, END, NODES, TPL
from .timeutil import HOUR

FORMAT_EXT = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}
GZIP_STREAMS = {"orders", "pos-store1", "pos-store2", "pos-store3"}


@dataclass(frozen=True)
class Stream:
    """One sender's sequence of files (in delivery order) inside a source folder."""

    source: str
    name: str
    paths: tuple[str, ...]  # relative to the source folder

    def route(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def months(epoch0: int) -> tuple[np.ndarray, list[str]]:
    """Starts of the 1st (seconds after epoch0) and labels (YYYY-MM) of the calendar months
    the simulated period touches (13 when it does not start on the 1st)."""
    start = datetime.fromtimestamp(epoch0, tz=UTC)
    last = datetime.fromtimestamp(epoch0 + END - 1, tz=UTC)
    y, m = start.year, start.month
    starts, labels = [], []
    while (y, m) <= (last.year, last.month):
        begin = datetime(y, m, 1, tzinfo=UTC)
        starts.append(int(begin.timestamp()) - epoch0)  # the first may be < 0
        labels.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return np.array(starts, dtype=np.int64), labels


@dataclass(frozen=True)
class MonthStream(Stream):
    halves: bool = False  # orders: two deliveries per month
    starts: tuple[int, ...] = ()  # month starts, seconds after epoch0

    def route(self, t: np.ndarray) -> np.ndarray:
        starts = np.asarray(self.starts, dtype=np.int64)
        m = np.searchsorted(starts, t, side="right") - 1
        if not self.halves:
            return m
        second = (t - starts[m]) >= 15 * DAY
        return m * 2 + second


@dataclass(frozen=True)
class BatchStream(Stream):
    cutoffs: tuple[int, ...] = ()  # batch i holds events before cutoffs[i]

    def route(self, t: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.cutoffs), t, side="right")


def month_stream(
    source: str, name: str, fmt: str, epoch0: int, halves: bool = False
) -> MonthStream:
    ext = FORMAT_EXT[fmt] + (".gz" if name in GZIP_STREAMS else "")
    starts, labels = months(epoch0)
    if halves:
        paths = tuple(f"{m}/{name}-{m}-part{p}{ext}" for m in labels for p in (1, 2))
    else:
        paths = tuple(f"{m}/{name}-{m}{ext}" for m in labels)
    return MonthStream(
        source=source, name=name, paths=paths, halves=halves, starts=tuple(starts.tolist())
    )


def tpl_stream(rng: np.random.Generator, epoch0: int, cutoff: int) -> BatchStream:
    """The 3PL sends its stock log in files every 2-6 days, 4-30 hours after the file's
    cutoff (never after the generation cutoff); rows are routed by when the 3PL
    recorded them (its sync time), see sync.py."""
    cut = np.cumsum(rng.integers(2 * DAY, 6 * DAY, 200))
    cut = np.r_[cut[cut < END], END]
    delivered = cut + rng.integers(4 * HOUR, 30 * HOUR, len(cut))
    delivered = np.minimum(np.maximum.accumulate(delivered), max(cutoff - 60, 0))
    paths = []
    for i, dlv in enumerate(delivered):
        ts = datetime.fromtimestamp(epoch0, tz=UTC) + timedelta(seconds=int(dlv))
        paths.append(f"{ts:%Y-%m}/3pl-acme-{ts:%Y%m%dT%H%M}-b{i + 1:03d}.csv")
    # cutoffs[i] closes batch i; route() uses the boundaries between batches
    return BatchStream(
        source="stock", name="3pl-acme", paths=tuple(paths), cutoffs=tuple(int(c) for c in cut[:-1])
    )


def streams_for(
    source: str, fmt: str, rng: np.random.Generator, epoch0: int, cutoff: int
) -> list[Stream]:
    if source == "stock":
        out: list[Stream] = []
        for i, (_, _, _, sender) in enumerate(NODES):
            out.append(
                tpl_stream(rng, epoch0, cutoff)
                if i == TPL
                else month_stream(source, sender, fmt, epoch0)
            )
        return out
    name = {"orders": "orders", "procurement": "erp-po", "returns": "returns", "finance": "ledger"}
    return [month_stream(source, name[source], fmt, epoch0, halves=source == "orders")]


def assign_files(
    streams: list[Stream], node: np.ndarray, t: np.ndarray, rec: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Stream and file (index in that stream) of each row from event time and sender
    (the 3PL's batches: from when it recorded the row, `rec`)."""
    rec = t if rec is None else rec
    # stock has one stream per node (in NODES order); other sources a single one
    single = len(streams) == 1
    stream = np.zeros(len(t), dtype=np.int64) if single else node.astype(np.int64)
    file_idx = np.zeros(len(t), dtype=np.int64)
    for s, st in enumerate(streams):
        m = stream == s
        file_idx[m] = st.route(rec[m] if isinstance(st, BatchStream) else t[m])
    return stream, file_idx
