"""Columnar event buffer: the day loop appends numpy chunks, formatted only when written."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import polars as pl


class EventBuffer:
    """Collects chunks of one event type (and id template) as numpy columns.

    `tag` names the id template used later (several origins can emit the same
    event type, e.g. putaway after a PO receipt or after a restocked return).
    """

    def __init__(self) -> None:
        self._chunks: dict[tuple[str, str], list[dict[str, np.ndarray]]] = defaultdict(list)

    def add(self, event_type: str, tag: str, **cols: np.ndarray) -> None:
        lengths = [len(v) for v in cols.values() if np.ndim(v) > 0]
        n = max(lengths) if lengths else 1
        if n == 0:
            return
        chunk = {
            k: np.broadcast_to(np.asarray(v), (n,)).copy() if np.ndim(v) == 0 else np.asarray(v)
            for k, v in cols.items()
        }
        if any(len(v) != n for v in chunk.values()):
            raise ValueError(f"ragged chunk for {event_type}/{tag}")
        self._chunks[(event_type, tag)].append(chunk)

    def sorted_keys(self) -> list[tuple[str, str]]:
        return sorted(self._chunks)

    def pop(self, event_type: str, tag: str) -> pl.DataFrame:
        """The chunks of one key as a frame; frees them from the buffer."""
        chunks = self._chunks.pop((event_type, tag), [])
        if not chunks:
            return pl.DataFrame()
        names = list(chunks[0])
        return pl.DataFrame({k: np.concatenate([c[k] for c in chunks]) for k in names})
