"""Which file each row goes to: month files per sender, delayed 3PL batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from .config import DAY, END, EPOCH0, NODES, TPL
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


def _month_starts() -> np.ndarray:
    starts = [datetime(2025, m, 1, tzinfo=UTC) for m in range(1, 13)]
    return np.array([int(s.timestamp()) - EPOCH0 for s in starts], dtype=np.int64)


MONTH_STARTS = _month_starts()
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def month_index(t: np.ndarray) -> np.ndarray:
    return np.searchsorted(MONTH_STARTS, t, side="right") - 1


@dataclass(frozen=True)
class MonthStream(Stream):
    halves: bool = False  # orders: two deliveries per month

    def route(self, t: np.ndarray) -> np.ndarray:
        m = month_index(t)
        if not self.halves:
            return m
        second = (t - MONTH_STARTS[m]) >= 15 * DAY
        return m * 2 + second


@dataclass(frozen=True)
class BatchStream(Stream):
    cutoffs: tuple[int, ...] = ()  # batch i holds events before cutoffs[i]

    def route(self, t: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.cutoffs), t, side="right")


def month_stream(source: str, name: str, fmt: str, halves: bool = False) -> MonthStream:
    ext = FORMAT_EXT[fmt] + (".gz" if name in GZIP_STREAMS else "")
    if halves:
        paths = tuple(f"{m}/{name}-{m}-part{p}{ext}" for m in MONTHS for p in (1, 2))
    else:
        paths = tuple(f"{m}/{name}-{m}{ext}" for m in MONTHS)
    return MonthStream(source=source, name=name, paths=paths, halves=halves)


def tpl_stream(rng: np.random.Generator) -> BatchStream:
    """The 3PL sends its stock log in batches every 2-6 days, 4-30 hours after cutoff."""
    cut = np.cumsum(rng.integers(2 * DAY, 6 * DAY, 200))
    cut = np.r_[cut[cut < END], END]
    delivered = cut + rng.integers(4 * HOUR, 30 * HOUR, len(cut))
    delivered = np.maximum.accumulate(delivered)
    paths = []
    for i, dlv in enumerate(delivered):
        ts = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=int(dlv))
        paths.append(f"{ts:%Y-%m}/3pl-acme-{ts:%Y%m%dT%H%M}-b{i + 1:03d}.csv")
    # cutoffs[i] closes batch i; route() uses the boundaries between batches
    return BatchStream(
        source="stock", name="3pl-acme", paths=tuple(paths), cutoffs=tuple(int(c) for c in cut[:-1])
    )


def streams_for(source: str, fmt: str, rng: np.random.Generator) -> list[Stream]:
    if source == "stock":
        out: list[Stream] = []
        for i, (_, _, _, sender) in enumerate(NODES):
            out.append(tpl_stream(rng) if i == TPL else month_stream(source, sender, fmt))
        return out
    name = {"orders": "orders", "procurement": "erp-po", "returns": "returns", "finance": "ledger"}
    return [month_stream(source, name[source], fmt, halves=source == "orders")]


def assign_files(df: pl.DataFrame, streams: list[Stream]) -> pl.DataFrame:
    """Adds `_stream` and `_file` (index in that stream) from event time and sender."""
    t = df["_t"].to_numpy()
    # stock has one stream per node (in NODES order); other sources a single one
    single = len(streams) == 1
    stream = np.zeros(len(t), dtype=np.int64) if single else df["_node"].to_numpy()
    file_idx = np.zeros(len(t), dtype=np.int64)
    for s, st in enumerate(streams):
        m = stream == s
        file_idx[m] = st.route(t[m])
    return df.with_columns(_stream=pl.Series(stream), _file=pl.Series(file_idx))
