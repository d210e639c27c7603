"""Warehouse housekeeping: cycle counts, damage, shrink, found stock, quality
blocks, and replenishment transfers from DCs to stores."""

from __future__ import annotations

import numpy as np

from .config import DAY, NODES, STORE_SOURCE_DC
from .timeutil import HOUR, safe, uniform_s
from .world import World

# state codes (index in domain states): see formatting.STATE_NAMES
AVAILABLE, QUALITY_HOLD, DAMAGED, SCRAP, ADJUSTMENT, IN_TRANSIT = 0, 3, 4, 11, 13, 2
# Quality blocks nobody follows up: this share is released 35-120 days later
# (or not within the period), so blocked stock ages past 30 and 90 days.
FORGOTTEN_BLOCK_P = 0.06
# Days before the end when the trending SKUs' DC1 stock goes on a quality hold that
# is not released in the period (blocked stock that could cover their risk).
FORGOTTEN_HOLD_DAYS_BEFORE_END = 25
FORGOTTEN_HOLD_UNITS = 4


def cycle_counts(w: World) -> None:
    """00:01-00:05: count a slice of each node; system_qty is the true available."""
    rng, d = w.rng, w.day
    for node in range(len(NODES)):
        sku = np.flatnonzero(w.cat.stocked[:, node])
        k = max(1, len(sku) // 60)
        sku = np.sort(rng.choice(sku, size=min(k, len(sku)), replace=False))
        system = w.budget[sku, node].copy()
        diff = np.where(rng.random(len(sku)) < 0.08, rng.choice([-3, -2, -1, 1, 2], len(sku)), 0)
        counted = np.maximum(0, system + diff)
        t = d * DAY + 60 + rng.permutation(240)[: len(sku)] if len(sku) <= 240 else None
        if t is None:
            t = d * DAY + 60 + (np.arange(len(sku)) * 240) // len(sku)
        lost = np.maximum(system - counted, 0)
        found = np.maximum(counted - system, 0)
        w.buf.add(
            "cycle_count",
            "cc",
            t=t,
            node=np.full(len(sku), node),
            sku=sku,
            counted=counted,
            system=system,
            qty=lost + found,
            from_state=np.where(lost > 0, AVAILABLE, ADJUSTMENT),
            to_state=np.where(lost > 0, ADJUSTMENT, AVAILABLE),
        )
        w.take(sku, np.full(len(sku), node), lost)
        w.schedule(t, sku, np.full(len(sku), node), found)


def incidents(w: World) -> None:
    """Random damage, shrink, found units and quality blocks across the network."""
    rng, d = w.rng, w.day
    n_nodes = len(NODES)
    scale_k = w.cat.stocked.sum() / 1000.0
    kinds = (("damage", 0.5), ("shrink", 0.25), ("block", 0.2), ("found", 0.1))
    for kind, per_1000 in kinds:
        k = int(rng.poisson(per_1000 * scale_k))
        flat = np.flatnonzero((w.budget > 0).reshape(-1) & w.cat.stocked.reshape(-1))
        if k == 0 or len(flat) == 0:
            continue
        pick = np.sort(rng.choice(flat, size=min(k, len(flat)), replace=False))
        sku, node = pick // n_nodes, pick % n_nodes
        t = safe(d * DAY + uniform_s(rng, 7 * HOUR, 22 * HOUR, len(pick)))
        qty = np.minimum(rng.integers(1, 3, len(pick)), w.budget[sku, node])
        seq = w.ids("incident", len(pick))
        if kind == "found":
            qty = rng.integers(1, 3, len(pick))
            w.buf.add(
                "adjustment",
                "found",
                t=t,
                sku=sku,
                node=node,
                qty=qty,
                seq=seq,
                from_state=ADJUSTMENT,
                to_state=AVAILABLE,
                reason=3,
            )
            w.schedule(t, sku, node, qty)
            continue
        w.take(sku, node, qty)
        if kind == "shrink":
            w.buf.add(
                "adjustment",
                "shrink",
                t=t,
                sku=sku,
                node=node,
                qty=qty,
                seq=seq,
                from_state=AVAILABLE,
                to_state=ADJUSTMENT,
                reason=2,
            )
        elif kind == "damage":
            w.buf.add(
                "damaged",
                "dmg",
                t=t,
                sku=sku,
                node=node,
                qty=qty,
                seq=seq,
                from_state=AVAILABLE,
                to_state=DAMAGED,
                reason=1,
            )
            t2 = t + uniform_s(rng, 2 * DAY, 20 * DAY, len(pick))
            w.buf.add(
                "adjustment",
                "writeoff",
                t=t2,
                sku=sku,
                node=node,
                qty=qty,
                seq=seq,
                from_state=DAMAGED,
                to_state=SCRAP,
                reason=4,
            )
        else:
            w.buf.add(
                "status_change",
                "block",
                t=t,
                sku=sku,
                node=node,
                qty=qty,
                seq=seq,
                from_state=AVAILABLE,
                to_state=QUALITY_HOLD,
                reason=8,
            )
            t2 = safe(t + uniform_s(rng, 2 * DAY, 10 * DAY, len(pick)))
            forgotten = rng.random(len(pick)) < FORGOTTEN_BLOCK_P
            t2 = np.where(forgotten, safe(t2 + uniform_s(rng, 35 * DAY, 120 * DAY, len(pick))), t2)
            rel = (rng.random(len(pick)) < 0.8) | forgotten
            w.buf.add(
                "status_change",
                "release",
                t=t2[rel],
                sku=sku[rel],
                node=node[rel],
                qty=qty[rel],
                seq=seq[rel],
                from_state=QUALITY_HOLD,
                to_state=AVAILABLE,
                reason=7,
            )
            w.schedule(t2[rel], sku[rel], node[rel], qty[rel])
            w.buf.add(
                "adjustment",
                "expired",
                t=t2[~rel],
                sku=sku[~rel],
                node=node[~rel],
                qty=qty[~rel],
                seq=seq[~rel],
                from_state=QUALITY_HOLD,
                to_state=SCRAP,
                reason=5,
            )


def store_transfers(w: World) -> None:
    """Replenish stores from their DC: transfer_out today, transfer_in 1-3 days later."""
    rng, d = w.rng, w.day
    for store, dc in sorted(STORE_SOURCE_DC.items()):
        sku = np.flatnonzero(w.cat.stocked[:, store])
        rate = np.maximum(w.rate[sku, store], 0.05)
        position = w.budget[sku, store] + w.pipeline[sku, store]
        rop = np.ceil(rate * 5) + 1
        need = np.where(position < rop, np.ceil(rate * 12) + 3 - position, 0).astype(np.int64)
        qty = np.minimum(need, w.budget[sku, dc])
        ok = qty > 0
        sku, qty = sku[ok], qty[ok]
        if len(sku) == 0:
            continue
        tr = w.ids("transfer", 1)[0]
        t_out = d * DAY + int(rng.integers(9 * HOUR, 15 * HOUR))
        t_in = safe(np.full(len(sku), t_out + int(rng.integers(DAY, 3 * DAY)), dtype=np.int64))
        w.take(sku, np.full(len(sku), dc), qty)
        common = dict(sku=sku, qty=qty, tr=np.full(len(sku), tr))
        w.buf.add(
            "transfer_out",
            "tr",
            t=np.full(len(sku), t_out),
            node=np.full(len(sku), dc),
            to_node=np.full(len(sku), store),
            **common,
        )
        w.buf.add("transfer_in", "tr", t=t_in, node=np.full(len(sku), store), **common)
        w.schedule(t_in, sku, np.full(len(sku), store), qty)


def hold_trending(w: World) -> None:
    """Put some DC1 stock of the trending SKUs on a quality hold with no release."""
    rng, d = w.rng, w.day
    sku = w.trending[w.budget[w.trending, 0] > 0]
    if len(sku) == 0:
        return
    node = np.zeros(len(sku), dtype=np.int64)  # DC1
    qty = np.minimum(w.budget[sku, 0], FORGOTTEN_HOLD_UNITS)
    t = safe(d * DAY + uniform_s(rng, 9 * HOUR, 11 * HOUR, len(sku)))
    seq = w.ids("incident", len(sku))
    w.take(sku, node, qty)
    w.buf.add(
        "status_change",
        "block",
        t=t,
        sku=sku,
        node=node,
        qty=qty,
        seq=seq,
        from_state=AVAILABLE,
        to_state=QUALITY_HOLD,
        reason=8,
    )
    w.scenario["trending_held_units"] = int(qty.sum())
