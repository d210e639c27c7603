"""Orders through to shipment: capture, cancellation, substitution, allocation,
backorders, pick and (split) shipping. Emits order and stock events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import returns
from .allocation import allocate
from .config import AMAZON, DAY, DC1, DC2, EBAY, STORE, TPL, WEB
from .demand import DayLines
from .timeutil import HOUR, MINUTE, safe, uniform_s
from .world import World

CANCEL_REASONS = ("customer_request", "out_of_stock", "fraud", "payment_failed")
# Share of parcels with a short pick: a line ships in part, the rest a day or more later.
SHORT_PICK_P = 0.04


@dataclass
class Lines:
    """Order lines waiting for, or going through, fulfilment (one row per line)."""

    order_no: np.ndarray
    line: np.ndarray
    sku: np.ndarray  # SKU to reserve (after substitution)
    qty: np.ndarray  # units still to reserve
    channel: np.ndarray
    t_order: np.ndarray
    cand: np.ndarray  # [n, 3] candidate nodes, -1 padded
    unit_net: np.ndarray  # net price per unit, pence (float)
    trusted: np.ndarray
    deadline: np.ndarray  # last day a backorder waits before it is cancelled

    def take(self, m: np.ndarray) -> Lines:
        return Lines(**{k: v[m] for k, v in self.__dict__.items()})

    @staticmethod
    def concat(a: Lines, b: Lines) -> Lines:
        return Lines(**{k: np.concatenate([v, getattr(b, k)]) for k, v in a.__dict__.items()})


def empty_lines() -> Lines:
    z = np.zeros(0, dtype=np.int64)
    return Lines(z, z, z, z, z, z, np.zeros((0, 3), dtype=np.int64), z.astype(float), z > 0, z)


def candidates(channel: np.ndarray, customer: np.ndarray) -> np.ndarray:
    """Node priority per line: web alternates DC1/DC2 first by customer region."""
    cand = np.full((len(channel), 3), -1, dtype=np.int64)
    web = channel == WEB
    south = customer % 2 == 0
    cand[web] = np.where(south[web, None], [DC1, DC2, TPL], [DC2, DC1, TPL])
    cand[channel == AMAZON, 0] = TPL
    cand[channel == EBAY, :2] = [DC2, DC1]
    return cand


def process_day(w: World, day_lines: DayLines, backlog: Lines) -> Lines:
    """Serve yesterday's backorders, then today's orders; returns the new backlog."""
    backlog = _serve_backlog(w, backlog)
    new_backlog = _new_orders(w, day_lines)
    return Lines.concat(backlog, new_backlog)


def _serve_backlog(w: World, bl: Lines) -> Lines:
    rng, d = w.rng, w.day
    if len(bl.sku) == 0:
        return bl
    expired = bl.deadline < d
    ex = bl.take(expired)
    t_cx = d * DAY + uniform_s(rng, 400, 2 * HOUR, len(ex.sku))
    w.buf.add(
        "order_cancelled",
        "line",
        t=t_cx,
        order=ex.order_no,
        line=ex.line,
        qty=ex.qty,
        channel=ex.channel,
        reason=np.full(len(ex.sku), CANCEL_REASONS.index("out_of_stock")),
    )
    bl = bl.take(~expired)
    order = np.lexsort((bl.line, bl.order_no))  # oldest first
    bl = bl.take(order)
    node = allocate(w.budget, bl.sku, bl.cand, bl.qty)
    ok = node >= 0
    got = bl.take(ok)
    # Later in the morning than any cancellation of yesterday's late orders.
    t_res = d * DAY + uniform_s(rng, 3 * HOUR, 9 * HOUR, len(got.sku))
    _reserve_and_ship(w, got, node[ok], t_res, np.zeros(len(got.sku), dtype=np.int64), t_res)
    return bl.take(~ok)


def _new_orders(w: World, dl: DayLines) -> Lines:
    rng, cat, d = w.rng, w.cat, w.day
    n_orders = int(dl.order.max()) + 1 if len(dl.order) else 0
    order_no = w.ids("order", n_orders)[dl.order]

    # Store sales happen only if the shelf has the item (otherwise a lost sale).
    store = dl.channel == STORE
    np.add.at(w.demand_today, (dl.sku[store], dl.store[store]), dl.qty[store])
    sold = np.zeros(len(dl.sku), dtype=bool)
    s_idx = np.flatnonzero(store)
    s_node = allocate(w.budget, dl.sku[s_idx], dl.store[s_idx, None], dl.qty[s_idx])
    sold[s_idx[s_node >= 0]] = True
    keep = ~store | sold
    dl, order_no = dl.take(keep), order_no[keep]
    n = len(dl.sku)
    if n == 0:
        return empty_lines()
    store = dl.channel == STORE

    gross = cat.list_price[dl.sku] * dl.qty
    net = gross - dl.discount
    trusted = dl.customer % 5 == 0
    promised = _promised_by(dl)
    w.buf.add(
        "order_placed",
        "placed",
        t=dl.t,
        order=order_no,
        line=dl.line,
        channel=dl.channel,
        sku=dl.sku,
        qty=dl.qty,
        price=cat.list_price[dl.sku],
        discount=dl.discount,
        customer=dl.customer,
        trusted=trusted,
        promised=promised,
        service=np.where(store, -1, dl.service),
        node=np.where(store, dl.store, -1),
    )

    # Cancellation plans (decided now, happen 20-170 minutes after the order).
    first = np.r_[True, order_no[1:] != order_no[:-1]]
    ord_idx = np.cumsum(first) - 1
    n_ord = int(first.sum())
    whole_o = (rng.random(n_ord) < 0.02) & ~store[first]
    whole_reason = rng.choice([0, 2, 3], size=n_ord, p=[0.6, 0.2, 0.2])
    t_cancel_o = safe(dl.t[first] + uniform_s(rng, 20 * MINUTE, 170 * MINUTE, n_ord))
    whole = whole_o[ord_idx]
    line_cx = ~whole & ~store & (rng.random(n) < 0.03)
    partial = line_cx & (dl.qty > 1) & (rng.random(n) < 0.5)
    q_cx = np.where(whole | line_cx, dl.qty, 0)
    q_cx = np.where(partial, 1 + (rng.random(n) * (dl.qty - 1)).astype(np.int64), q_cx)
    t_cx = t_cancel_o[ord_idx]
    w.buf.add(
        "order_cancelled",
        "whole",
        t=t_cancel_o[whole_o],
        order=order_no[first][whole_o],
        channel=dl.channel[first][whole_o],
        reason=whole_reason[whole_o],
    )
    w.buf.add(
        "order_cancelled",
        "line",
        t=t_cx[line_cx],
        order=order_no[line_cx],
        line=dl.line[line_cx],
        qty=q_cx[line_cx],
        channel=dl.channel[line_cx],
        reason=np.zeros(int(line_cx.sum()), dtype=np.int64),
    )
    # Payment is captured unless the order was stopped for fraud or payment failure.
    net_o = np.bincount(ord_idx, weights=net, minlength=n_ord).astype(np.int64)
    paid = ~(whole_o & (whole_reason >= 2))
    w.buf.add(
        "payment_captured",
        "pay",
        t=dl.t[first][paid] + 45,
        order=order_no[first][paid],
        channel=dl.channel[first][paid],
        amount=net_o[paid],
    )

    # Substitutions: a similar SKU replaces the ordered one before allocation.
    sub = ~store & (q_cx < dl.qty) & (rng.random(n) < 0.01)
    sku = np.where(sub, cat.substitute[dl.sku], dl.sku)
    w.buf.add(
        "line_substituted",
        "sub",
        t=dl.t[sub] + 60,
        order=order_no[sub],
        line=dl.line[sub],
        sku=sku[sub],
        orig=dl.sku[sub],
        qty=dl.qty[sub],
        channel=dl.channel[sub],
    )

    # Store sales: sold from the shelf straight to the customer.
    w.buf.add(
        "shipped",
        "pos",
        t=dl.t[store] + 60,
        order=order_no[store],
        line=dl.line[store],
        node=dl.store[store],
        sku=sku[store],
        qty=dl.qty[store],
        from_state=np.full(int(store.sum()), 0),  # 0 = from available
    )
    unit_net = net / dl.qty
    returns.generate(
        w,
        order_no[store],
        dl.line[store],
        sku[store],
        dl.qty[store],
        dl.t[store] + 60,
        dl.channel[store],
        dl.store[store],
        unit_net[store],
        trusted[store],
    )

    lines = Lines(
        order_no=order_no,
        line=dl.line,
        sku=sku,
        qty=dl.qty,
        channel=dl.channel,
        t_order=dl.t,
        cand=candidates(dl.channel, dl.customer),
        unit_net=unit_net,
        trusted=trusted,
        deadline=d + rng.integers(4, 15, n),
    )
    online = np.flatnonzero(~store)
    lines, q_cx, t_cx = lines.take(online), q_cx[online], t_cx[online]
    node = allocate(w.budget, lines.sku, lines.cand, lines.qty)
    ok = node >= 0
    got = lines.take(ok)
    np.add.at(w.demand_today, (got.sku, node[ok]), got.qty)
    t_res = got.t_order + uniform_s(rng, 120, 600, len(got.sku))
    _reserve_and_ship(w, got, node[ok], t_res, q_cx[ok], t_cx[ok])

    # Not reservable now (stale stock view): backorder what was not cancelled.
    miss = lines.take(~ok)
    np.add.at(w.demand_today, (miss.sku, miss.cand[:, 0]), miss.qty)
    miss.qty = miss.qty - q_cx[~ok]
    return miss.take(miss.qty > 0)


def _promised_by(dl: DayLines) -> np.ndarray:
    """Ship-by: standard day+2 17:00, express day+1 17:00, next_day day+1 12:00."""
    day0 = dl.t - dl.t % DAY
    promised = np.select(
        [dl.service == 0, dl.service == 1],
        [day0 + 2 * DAY + 17 * HOUR, day0 + DAY + 17 * HOUR],
        day0 + DAY + 12 * HOUR,
    )
    # store sales are handed over at the till: promised within 15 minutes
    return np.where(dl.channel == STORE, dl.t + HOUR // 4, promised)


def _reserve_and_ship(
    w: World,
    got: Lines,
    node: np.ndarray,
    t_res: np.ndarray,
    q_cx: np.ndarray,
    t_cx: np.ndarray,
) -> None:
    """Reserve, release cancelled units, then pick and ship the rest (maybe split)."""
    rng = w.rng
    n = len(got.sku)
    if n == 0:
        return
    w.buf.add(
        "reserved",
        "rsv",
        t=t_res,
        order=got.order_no,
        line=got.line,
        node=node,
        sku=got.sku,
        qty=got.qty,
    )
    cx = q_cx > 0
    w.buf.add(
        "unreserved",
        "unrsv",
        t=t_cx[cx],
        order=got.order_no[cx],
        line=got.line[cx],
        node=node[cx],
        sku=got.sku[cx],
        qty=q_cx[cx],
    )
    w.schedule(t_cx[cx], got.sku[cx], node[cx], q_cx[cx])

    q_ship = got.qty - q_cx
    s = q_ship > 0
    idx = np.flatnonzero(s)
    # One parcel per order and node: the lines of an order reserved at one node in
    # this pass are picked and shipped together (issue 15 item 6). A parcel splits
    # only when a pick comes up short (a line ships in part, the rest follows).
    key = got.order_no[idx] * 8 + node[idx]
    _, g = np.unique(key, return_inverse=True)
    n_g = int(g.max()) + 1 if len(g) else 0
    t_ready = np.zeros(n_g, dtype=np.int64)
    np.maximum.at(t_ready, g, t_res[idx])
    delay = rng.choice([0, 1, 2, 3, 5], size=n_g, p=[0.55, 0.3, 0.1, 0.04, 0.01])
    t_pick_g = t_ready + 3 * HOUR + delay * DAY + uniform_s(rng, 0, 5 * HOUR, n_g)
    t_ship_g = t_pick_g + uniform_s(rng, 30 * MINUTE, 3 * HOUR, n_g)
    q = q_ship[idx]
    short_g = rng.random(n_g) < SHORT_PICK_P
    split = (q >= 2) & short_g[g]
    short_g = np.zeros(n_g, dtype=bool)
    short_g[g[split]] = True
    q1 = np.where(split, 1 + (rng.random(len(idx)) * (q - 1)).astype(np.int64), q)
    t_pick2_g = t_ship_g + uniform_s(rng, DAY, 3 * DAY, n_g)
    t_ship2_g = t_pick2_g + uniform_s(rng, 30 * MINUTE, 3 * HOUR, n_g)
    parcel = np.zeros(n_g, dtype=np.int64)
    parcel[short_g] = w.ids("parcel", int(short_g.sum()))
    first_parcel = w.ids("parcel", n_g)
    t_pick, t_ship = t_pick_g[g], t_ship_g[g]
    t_ship2 = t_ship2_g[g]
    for k, m, tp, ts, qq, pc in (
        (1, np.ones(len(idx), dtype=bool), t_pick, t_ship, q1, first_parcel[g]),
        (2, split, t_pick2_g[g], t_ship2, q - q1, parcel[g]),
    ):
        common = dict(order=got.order_no[idx][m], line=got.line[idx][m], node=node[idx][m])
        common["sku"], common["qty"] = got.sku[idx][m], qq[m]
        w.buf.add("picked", "pick", t=tp[m], k=np.full(int(m.sum()), k), **common)
        w.buf.add(
            "shipped",
            "shp",
            t=ts[m],
            k=np.full(int(m.sum()), k),
            parcel=pc[m],
            from_state=np.full(int(m.sum()), 1),  # 1 = from reserved
            **common,
        )
    t_last = np.where(split, t_ship2, t_ship)
    returns.generate(
        w,
        got.order_no[idx],
        got.line[idx],
        got.sku[idx],
        q,
        t_last,
        got.channel[idx],
        node[idx],
        got.unit_net[idx],
        got.trusted[idx],
    )
