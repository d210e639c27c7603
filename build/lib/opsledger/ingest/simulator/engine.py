"""The day loop: one iteration per simulated day, everything inside vectorised."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import fulfilment, operations, procurement
from .catalog import Catalog, build_catalog
from .config import CHANNEL_NODES, CHANNELS, DAYS, STORE, STORES, SimConfig
from .demand import MEAN_QTY, channel_weights, draw_day, trend_boost, trending_skus
from .events import EventBuffer
from .world import World


def initial_rate(cfg: SimConfig, cat: Catalog, weights: list[np.ndarray]) -> np.ndarray:
    """Expected units/day per SKU x node, used to size opening stock and first orders."""
    rate = np.zeros(cat.stocked.shape)
    for ch, (_, _, _, share, _) in enumerate(CHANNELS):
        units = cfg.lines_per_day * share * MEAN_QTY * weights[ch]
        if ch == STORE:
            for s, split in zip(STORES, (0.4, 0.35, 0.25), strict=True):
                rate[:, s] += units * split * cat.stocked[:, s]
        else:
            nodes = CHANNEL_NODES[ch]
            rate[:, nodes[0]] += units * (0.5 if len(nodes) == 3 else 1.0)
            if len(nodes) == 3:
                rate[:, nodes[1]] += units * 0.5
    return rate * cat.stocked


def simulate(cfg: SimConfig, progress: Callable[[str, float], None] | None = None) -> World:
    rng = np.random.default_rng([cfg.seed, 20250101])
    cat = build_catalog(cfg, rng)
    w = World(cfg=cfg, cat=cat, rng=rng, buf=EventBuffer())
    weights = channel_weights(cat)
    w.rate = initial_rate(cfg, cat, weights)
    procurement.opening_stock(w)
    backlog = fulfilment.empty_lines()
    w.trending = trending_skus(cat)
    for d in range(DAYS):
        if d > 0:
            operations.cycle_counts(w)
        operations.incidents(w)
        if d == DAYS - operations.FORGOTTEN_HOLD_DAYS_BEFORE_END:
            operations.hold_trending(w)
        day_lines = draw_day(cfg, cat, weights, rng, d, trend_boost(cat, w.trending, d))
        backlog = fulfilment.process_day(w, day_lines, backlog)
        operations.store_transfers(w)
        procurement.review(w)
        w.close_day()
        if progress and d % 15 == 0:
            progress("simulate", d / DAYS)
    w.backlog_open = len(backlog.sku)  # type: ignore[attr-defined]
    return w
