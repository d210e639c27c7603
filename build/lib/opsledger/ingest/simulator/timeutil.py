"""Small vectorised helpers for simulated times (int seconds after EPOCH0)."""

from __future__ import annotations

import numpy as np

from .config import DAY, SAFE_SECOND


def safe(t: np.ndarray) -> np.ndarray:
    """Push times that fall in the nightly count window (00:00-00:06) just past it."""
    tod = t % DAY
    return np.where(tod < SAFE_SECOND, t - tod + SAFE_SECOND + tod % 60, t)


def uniform_s(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Uniform integer durations in seconds, [lo, hi)."""
    return rng.integers(int(lo), max(int(lo) + 1, int(hi)), n, dtype=np.int64)


HOUR = 3600
MINUTE = 60
