"""Returns lifecycle of shipped lines: request, authorisation or rejection, receipt,
inspection, disposition, refund or exchange, vendor claims and recovery money."""

from __future__ import annotations

import numpy as np

from .catalog import CLASS_NAMES
from .config import AMAZON, CLASSES, DAY, DAYS, DC1, STORE, TPL
from .timeutil import HOUR, MINUTE, safe, uniform_s
from .world import World

REASONS = (
    "wrong_size",
    "not_as_described",
    "defective",
    "damaged_in_transit",
    "changed_mind",
    "late_delivery",
    "wrong_item",
)
REJECTIONS = ("outside_window", "not_returnable", "missing_proof")
GRADES = ("A", "B", "C", "D")
DISPOSITIONS = ("restock", "refurbish", "liquidate", "return_to_vendor", "scrap", "donate")
RETURN_RATE = np.array([c[3] for c in CLASSES.values()])
WINDOW_DAYS = 30
# Inspected returns left for a human disposition: share of those inspected in the
# last PENDING_RECENT_DAYS days, and of older ones (forgotten in the cage).
PENDING_RECENT_DAYS = 21
PENDING_RECENT_P = 0.35
PENDING_OLD_P = 0.01

# P(reason | class): apparel is mostly about fit, the rest about faults and mind changes.
_REASON_P = {
    "apparel": [0.45, 0.15, 0.05, 0.05, 0.22, 0.03, 0.05],
    "electronics": [0.0, 0.2, 0.35, 0.1, 0.25, 0.04, 0.06],
}
_REASON_DEFAULT = [0.04, 0.2, 0.2, 0.12, 0.32, 0.05, 0.07]
REASON_CDF = np.cumsum([_REASON_P.get(c, _REASON_DEFAULT) for c in CLASS_NAMES], axis=1) / np.sum(
    [_REASON_P.get(c, _REASON_DEFAULT) for c in CLASS_NAMES], axis=1, keepdims=True
)
# P(grade | reason): faults come back C/D, mind changes A/B.
GRADE_CDF = np.cumsum(
    [
        [0.5, 0.35, 0.12, 0.03],
        [0.3, 0.4, 0.2, 0.1],
        [0.02, 0.08, 0.3, 0.6],
        [0.02, 0.1, 0.38, 0.5],
        [0.6, 0.3, 0.08, 0.02],
        [0.55, 0.35, 0.08, 0.02],
        [0.55, 0.35, 0.08, 0.02],
    ],
    axis=1,
)
# Preference of each disposition by grade, before the product-class rules mask it.
_DISP_PREF = np.array(
    [
        [0.90, 0.90, 0.05, 0.03, 0.00, 0.02],
        [0.75, 0.80, 0.15, 0.05, 0.00, 0.05],
        [0.05, 0.60, 0.50, 0.20, 0.10, 0.15],
        [0.00, 0.20, 0.10, 0.50, 0.40, 0.10],
    ]
)


def _allowed_matrix() -> np.ndarray:
    from opsledger.models.domain import load_domain

    dom = load_domain()
    return np.array([[d in dom.allowed_dispositions(c) for d in DISPOSITIONS] for c in CLASS_NAMES])


ALLOWED = _allowed_matrix()


def _sample_cdf(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF sampling; cdf is [n, k] with last column 1."""
    u = rng.random(len(cdf))
    return np.minimum((u[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)


def generate(
    w: World,
    order_no: np.ndarray,
    line: np.ndarray,
    sku: np.ndarray,
    qty_shipped: np.ndarray,
    t_shipped: np.ndarray,
    channel: np.ndarray,
    ship_node: np.ndarray,
    unit_net: np.ndarray,
    trusted: np.ndarray,
) -> None:
    rng, cat, buf = w.rng, w.cat, w.buf
    cls = cat.class_idx[sku]
    rate = RETURN_RATE[cls] * np.where(channel == STORE, 0.5, 1.0)
    r = np.flatnonzero(rng.random(len(sku)) < rate)
    if len(r) == 0:
        return
    order_no, line, sku, cls = order_no[r], line[r], sku[r], cls[r]
    channel, ship_node, unit_net, trusted = channel[r], ship_node[r], unit_net[r], trusted[r]
    n = len(r)
    qty = np.where(qty_shipped[r] > 1, rng.integers(1, qty_shipped[r] + 1), 1)
    reason = _sample_cdf(rng, REASON_CDF[cls])
    delivered = t_shipped[r] + uniform_s(rng, DAY, 3 * DAY, n)
    t_req = delivered + (rng.exponential(9.0, n) * DAY).astype(np.int64)
    ids = dict(order=order_no, line=line)
    buf.add(
        "return_requested",
        "req",
        t=t_req,
        sku=sku,
        qty=qty,
        reason=reason,
        trusted=trusted,
        **ids,
    )

    late = t_req - delivered > WINDOW_DAYS * DAY
    not_returnable = ~cat.returnable[sku]
    proof = rng.random(n) < 0.01
    rejected = late | not_returnable | proof
    rej_reason = np.where(not_returnable, 1, np.where(late, 0, 2))
    t_dec = t_req + uniform_s(rng, 10 * MINUTE, DAY, n)
    rj = rejected
    buf.add("return_rejected", "rej", t=t_dec[rj], reason=rej_reason[rj], **_sel(ids, rj))

    a = ~rejected
    buf.add("return_authorized", "auth", t=t_dec[a], **_sel(ids, a))
    buf.add(
        "reverse_logistics_cost",
        "ship",
        t=t_dec[a] + HOUR,
        amount=rng.integers(350, 750, int(a.sum())),
        **_sel(ids, a),
    )
    received = a & (rng.random(n) > 0.04)  # some customers never send it back
    node = np.where(channel == STORE, ship_node, np.where(channel == AMAZON, TPL, DC1))
    t_recv = safe(t_dec + uniform_s(rng, 2 * DAY, 10 * DAY, n))
    t_insp = t_recv + uniform_s(rng, 12 * HOUR, 6 * DAY, n)
    grade = _sample_cdf(rng, GRADE_CDF[reason])
    rv = received
    rv_cols = dict(node=node[rv], sku=sku[rv], qty=qty[rv], **_sel(ids, rv))
    buf.add("return_received", "recv", t=t_recv[rv], **rv_cols)
    buf.add("return_inspected", "insp", t=t_insp[rv], grade=grade[rv], **rv_cols)
    buf.add(
        "reverse_logistics_cost",
        "handling",
        t=t_insp[rv],
        amount=rng.integers(100, 300, int(rv.sum())),
        **_sel(ids, rv),
    )

    # Disposition: grade preference, masked by the product-class rules.
    pref = _DISP_PREF[grade] * ALLOWED[cls]
    pref[:, 0] *= cat.restock_allowed[sku]
    pref[:, 3] *= np.where(reason == 2, 3.0, 1.0)  # defective -> claim the vendor
    pref[pref.sum(axis=1) == 0, 4] = 1.0  # scrap is the fallback
    cdf = np.cumsum(pref, axis=1) / pref.sum(axis=1, keepdims=True)
    disp = _sample_cdf(rng, cdf)
    t_disp = safe(t_insp + uniform_s(rng, 5 * MINUTE, 2 * HOUR, n))
    # Some inspected returns wait for a person to decide (the warehouse lead's form):
    # most of the recent ones, a few forgotten older ones; they stay `returned`.
    recent = t_insp > (DAYS - PENDING_RECENT_DAYS) * DAY
    pending = rv & (rng.random(n) < np.where(recent, PENDING_RECENT_P, PENDING_OLD_P))
    # inspected by the cutoff, no decision by then (waiting, or decided after it)
    awaiting = rv & (t_insp < w.cfg.cutoff) & (pending | (t_disp >= w.cfg.cutoff))
    w.scenario["pending_dispositions"] = int(w.scenario.get("pending_dispositions", 0)) + int(
        awaiting.sum()
    )
    decided = rv & ~pending
    dc_cols = dict(node=node[decided], sku=sku[decided], qty=qty[decided], **_sel(ids, decided))
    buf.add(
        "disposition_decided",
        "disp",
        t=t_disp[decided],
        disp=disp[decided],
        grade=grade[decided],
        **dc_cols,
    )
    cost = cat.unit_cost[sku] * qty
    rv = decided  # what follows a disposition

    restock = rv & (disp == 0)
    t_put = safe(t_disp + uniform_s(rng, 12 * HOUR, 3 * DAY, n))
    buf.add(
        "putaway",
        "ret",
        t=t_put[restock],
        from_state=np.full(int(restock.sum()), 6),
        **_sel(rv_cols_full(ids, node, sku, qty), restock),
    )
    w.schedule(t_put[restock], sku[restock], node[restock], qty[restock])

    refurb = rv & (disp == 1)
    t_rel = safe(t_disp + uniform_s(rng, 5 * DAY, 20 * DAY, n))
    buf.add(
        "status_change",
        "refurb",
        t=t_rel[refurb],
        reason=7,
        **_sel(rv_cols_full(ids, node, sku, qty), refurb),
    )
    w.schedule(t_rel[refurb], sku[refurb], node[refurb], qty[refurb])

    liq = rv & (disp == 2)
    buf.add(
        "liquidation_proceeds",
        "liq",
        t=t_disp[liq] + uniform_s(rng, 10 * DAY, 40 * DAY, int(liq.sum())),
        sku=sku[liq],
        amount=np.round(cost[liq] * rng.uniform(0.1, 0.35, int(liq.sum()))).astype(np.int64),
        **_sel(ids, liq),
    )

    rtv = rv & (disp == 3)
    t_claim = t_disp + uniform_s(rng, HOUR, 2 * DAY, n)
    sup = cat.supplier[sku]
    buf.add(
        "vendor_claim_filed",
        "claim",
        t=t_claim[rtv],
        sup=sup[rtv],
        amount=cost[rtv],
        **_sel(ids, rtv),
    )
    credited = rtv & (rng.random(n) < 0.85)
    t_credit = t_claim + uniform_s(rng, 10 * DAY, 45 * DAY, n)
    cr = dict(sup=sup[credited], amount=cost[credited], **_sel(ids, credited))
    buf.add("vendor_credit_received", "credit", t=t_credit[credited], **cr)
    buf.add(
        "vendor_credit",
        "credit",
        t=t_credit[credited] + uniform_s(rng, HOUR, 2 * DAY, int(credited.sum())),
        **cr,
    )

    # Refund, or an exchange for some fit problems; trusted customers get the
    # refund at authorisation, before the parcel arrives.
    exchange = received & (reason == 0) & (rng.random(n) < 0.3)
    buf.add("exchange_created", "exch", t=t_insp[exchange] + HOUR, **_sel(ids, exchange))
    early = a & trusted & ~exchange
    refund = early | (received & ~exchange)
    t_refund = np.where(
        early, t_dec + uniform_s(rng, HOUR, DAY, n), t_insp + uniform_s(rng, HOUR, 2 * DAY, n)
    )
    amount = np.round(unit_net * qty).astype(np.int64)
    rf = dict(amount=amount[refund], **_sel(ids, refund))
    buf.add("refund_issued", "refund", t=t_refund[refund], **rf)
    buf.add(
        "refund_paid",
        "refund",
        t=t_refund[refund] + uniform_s(rng, 12 * HOUR, 4 * DAY, int(refund.sum())),
        **rf,
    )


def rv_cols_full(ids: dict, node: np.ndarray, sku: np.ndarray, qty: np.ndarray) -> dict:
    return dict(node=node, sku=sku, qty=qty, **ids)


def _sel(cols: dict[str, np.ndarray], m: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[m] for k, v in cols.items()}
