"""Deterministic simulator of a mid-market retailer's operational event streams.

`generate(home, scale, seed)` writes what each source system would deliver into
`<home>/landing/<source>/` and the simulator's own truth into `<home>/ground_truth/`.
"""

from __future__ import annotations

from .generate import generate

__all__ = ["generate"]
