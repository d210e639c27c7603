"""Purchasing: opening stock, weekly reorder reviews, and the PO lifecycle
(created -> confirmed -> ASN -> receipt -> putaway -> closed, supplier invoice)."""

from __future__ import annotations

import numpy as np

from .config import DAY, DAYS, STOCKING_NODES, STORES
from .demand import TREND_DAYS
from .timeutil import HOUR, MINUTE, safe, uniform_s
from .world import World

REVIEW_DAYS = 7
CASE = 6  # order in multiples of a case


def opening_stock(w: World) -> None:
    """Day 0: every stocked SKU x node receives about a month of cover."""
    rng, cat = w.rng, w.cat
    for node in (*STOCKING_NODES, *STORES):
        sku = np.flatnonzero(cat.stocked[:, node])
        days = rng.uniform(25, 45, len(sku)) if node in STOCKING_NODES else 10.0
        qty = np.ceil(w.rate[sku, node] * days).astype(np.int64) + 2
        _create_pos(w, node, sku, qty, opening=True)


def review(w: World) -> None:
    """Weekly per supplier: order up to cover when the stock position is low."""
    cat, d = w.cat, w.day
    due = (cat.supplier % REVIEW_DAYS) == (d % REVIEW_DAYS)
    if d >= DAYS - TREND_DAYS:
        # the trending SKUs are on allocation at their suppliers: no new POs, so
        # they drift into replenishment risk while their demand ramps up
        due[w.trending] = False
    lt = cat.lead_time[cat.supplier].astype(float)
    for node in STOCKING_NODES:
        m = due & cat.stocked[:, node]
        sku = np.flatnonzero(m)
        if len(sku) == 0:
            continue
        rate = np.maximum(w.rate[sku, node], 0.02)
        position = w.budget[sku, node] + w.pipeline[sku, node]
        reorder_point = rate * (lt[sku] + REVIEW_DAYS) * 1.3 + 2
        order_up_to = reorder_point + rate * 21
        need = np.where(position < reorder_point, order_up_to - position, 0)
        qty = (np.ceil(need / CASE) * CASE).astype(np.int64)
        ok = qty > 0
        _create_pos(w, node, sku[ok], qty[ok], opening=False)


def _create_pos(w: World, node: int, sku: np.ndarray, qty: np.ndarray, opening: bool) -> None:
    rng, cat, buf, d = w.rng, w.cat, w.buf, w.day
    n = len(sku)
    if n == 0:
        return
    sup = cat.supplier[sku]
    order = np.lexsort((sku, sup))
    sku, qty, sup = sku[order], qty[order], sup[order]
    first = np.r_[True, sup[1:] != sup[:-1]]
    po_local = np.cumsum(first) - 1
    n_po = int(first.sum())
    po = w.ids("po", n_po)[po_local]
    po_line = np.arange(n) - np.flatnonzero(first)[po_local] + 1
    if opening:
        t_created = np.zeros(n_po, dtype=np.int64) + 5 + node
        arrival_day = np.zeros(n_po, dtype=np.int64)
        expected_day = arrival_day
        t_recv = np.full(n, 30 + node * 20, dtype=np.int64) + po_line % 15
    else:
        t_created = d * DAY + uniform_s(rng, 9 * HOUR, 17 * HOUR, n_po)
        nominal = cat.lead_time[sup[first]]
        actual = np.maximum(2, np.round(nominal + rng.normal(0, cat.lead_sd[sup[first]]))).astype(
            np.int64
        )
        expected_day = d + nominal
        arrival_day = d + actual
        t_recv = safe(arrival_day[po_local] * DAY + uniform_s(rng, 7 * HOUR, 17 * HOUR, n))
    cost = cat.unit_cost[sku]
    exp_day = expected_day[po_local]
    base = dict(po=po, po_line=po_line)
    buf.add(
        "po_created",
        "po",
        t=t_created[po_local],
        sup=sup,
        sku=sku,
        qty=qty,
        cost=cost,
        expected=exp_day,
        node=np.full(n, node),
        **base,
    )
    if not opening:
        t_conf = t_created[po_local] + uniform_s(rng, 2 * HOUR, 2 * DAY, n)
        buf.add("po_confirmed", "po", t=t_conf, qty=qty, expected=exp_day, **base)
    short = (not opening) & (rng.random(n) < 0.05)
    q_recv = np.where(short, np.maximum(1, np.round(qty * rng.uniform(0.7, 0.95, n))), qty).astype(
        np.int64
    )
    if not opening:
        t_asn = np.maximum(t_recv - uniform_s(rng, DAY, 3 * DAY, n), t_conf + HOUR)
        buf.add("asn", "po", t=t_asn, qty=q_recv, expected=arrival_day[po_local], **base)

    # Receipt into quality hold for fragile/electronics-heavy checks, else available.
    hold_p = np.where(np.isin(cat.class_idx[sku], (2, 4)), 0.5, 0.15)
    hold = (not opening) & (rng.random(n) < hold_p)
    buf.add(
        "po_receipt",
        "po",
        t=t_recv,
        node=np.full(n, node),
        sku=sku,
        qty=q_recv,
        cost=cost,
        to_state=np.where(hold, 3, 0),
        asn=np.where(opening, 0, 1),
        **base,
    )
    t_put = safe(t_recv + uniform_s(rng, 12 * HOUR, 2 * DAY, n))
    buf.add(
        "putaway",
        "po",
        t=t_put[hold],
        node=np.full(int(hold.sum()), node),
        sku=sku[hold],
        qty=q_recv[hold],
        **{k: v[hold] for k, v in base.items()},
    )
    t_avail = np.where(hold, t_put, t_recv)
    if opening:
        # Opening stock is there before the first decrement of day 0.
        np.add.at(w.budget, (sku, np.full(n, node)), q_recv)
    else:
        w.schedule(t_avail, sku, np.full(n, node), q_recv)

    # PO-level follow-ups: closed after the last receipt, then the supplier invoice.
    t_last = np.zeros(n_po, dtype=np.int64)
    np.maximum.at(t_last, po_local, np.where(hold, t_put, t_recv))
    value = np.bincount(po_local, weights=q_recv * cost, minlength=n_po).astype(np.int64)
    po_ids = po[first]
    buf.add("po_closed", "po", t=t_last + uniform_s(rng, HOUR, DAY, n_po), po=po_ids)
    buf.add(
        "supplier_invoice",
        "po",
        t=t_last + uniform_s(rng, 10 * MINUTE, 5 * DAY, n_po),
        po=po_ids,
        sup=sup[first],
        amount=value,
    )
