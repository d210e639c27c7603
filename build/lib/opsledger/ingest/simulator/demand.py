"""Customer demand: orders and lines per day with seasonality and promotions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalog import Catalog
from .config import (
    AMAZON,
    CHANNELS,
    DAY,
    DAYS,
    FLASH_SALE,
    FLASH_SALE_DAYS_BEFORE_END,
    PROMOTIONS,
    STORE,
    STORES,
    TPL,
    SimConfig,
)

LINES_PER_ORDER_P = np.array([0.55, 0.25, 0.12, 0.08])
MEAN_LINES = float((np.arange(1, 5) * LINES_PER_ORDER_P).sum())
MEAN_QTY = 1.42  # of the clipped geometric quantity below
STORE_SPLIT = np.array([0.4, 0.35, 0.25])


def season(doy: np.ndarray | int, weekday: np.ndarray | int) -> np.ndarray:
    """Demand multiplier by calendar day of year (0-based) and weekday (Mon 0):
    January lull, Q4 peak before Christmas, busier weekends."""
    d = np.asarray(doy, dtype=float)
    base = 0.85 + 0.1 * np.sin(2 * np.pi * (d - 80) / 365)
    q4 = 0.9 * np.exp(-(((d - 340) / 28.0) ** 2))
    after_xmas = np.where((d >= 359) & (d <= 362), -0.5, 0.0)
    weekly = np.where(np.isin(np.asarray(weekday), (5, 6)), 1.08, 1.0)
    return (base + q4 + after_xmas) * weekly


# normalised over a calendar year (2025: 1 January is a Wednesday)
_NORM = float(np.mean([season(d, (d + 2) % 7) for d in range(DAYS)]))
# Trending SKUs: demand ramps up to this multiple over the last TREND_DAYS days, faster
# than the replenishment review follows, so they drift into replenishment risk.
TREND_DAYS = 40
TREND_PEAK = 4.0
TREND_SHARE = 0.03


def trending_skus(cat: Catalog) -> np.ndarray:
    """A few well-selling SKUs stocked at DC1 (every SKU is): popularity ranks 20+."""
    order = np.argsort(-cat.popularity, kind="stable")
    k = max(3, round(TREND_SHARE * cat.n))
    return np.sort(order[20 : 20 + 3 * k : 3])


def trend_boost(cat: Catalog, trending: np.ndarray, day: int) -> np.ndarray | None:
    """Demand multiplier per SKU on a day (None before the ramp starts)."""
    ramp = day - (DAYS - TREND_DAYS)
    if ramp < 0:
        return None
    boost = np.ones(cat.n)
    boost[trending] = 1.0 + (TREND_PEAK - 1.0) * (ramp + 1) / TREND_DAYS
    return boost


def channel_weights(cat: Catalog) -> list[np.ndarray]:
    """Per channel, the SKU demand distribution restricted to what the channel can sell."""
    out = []
    for ch in range(len(CHANNELS)):
        if ch == AMAZON:
            mask = cat.stocked[:, TPL]
        elif ch == STORE:
            mask = cat.stocked[:, list(STORES)].any(axis=1)
        else:
            mask = np.ones(cat.n, dtype=bool)
        w = cat.popularity * mask
        out.append(w / w.sum())
    return out


@dataclass
class DayLines:
    """Order lines drawn for one day (sorted by order time, then order, then line)."""

    order: np.ndarray  # local order index within the day (0..)
    line: np.ndarray  # 1-based line number
    channel: np.ndarray
    store: np.ndarray  # store node for store-channel lines, else -1
    sku: np.ndarray
    qty: np.ndarray
    t: np.ndarray  # order time (seconds since EPOCH0)
    discount: np.ndarray  # pence, whole line
    customer: np.ndarray
    service: np.ndarray  # index into SERVICE_LEVELS (store: 0)

    def take(self, m: np.ndarray) -> DayLines:
        return DayLines(**{k: v[m] for k, v in self.__dict__.items()})


def draw_day(
    cfg: SimConfig,
    cat: Catalog,
    weights: list[np.ndarray],
    rng: np.random.Generator,
    day: int,
    boost: np.ndarray | None = None,
) -> DayLines:
    f = float(season(cfg.day_of_year(day), cfg.weekday(day))) / _NORM
    promotion = PROMOTIONS.get(cfg.day_of_year(day), (1.0, -2))
    if day == DAYS - 1 - FLASH_SALE_DAYS_BEFORE_END:
        promotion = FLASH_SALE
    if boost is not None:
        weights = [w * boost / (w * boost).sum() for w in weights]
    parts = []
    for ch, (_, _, _, share, _) in enumerate(CHANNELS):
        mult, promo_ch = promotion
        promo = promo_ch in (-1, ch)
        lam = cfg.lines_per_day * share * f * (mult if promo else 1.0) / MEAN_LINES
        n_orders = int(rng.poisson(lam))
        if n_orders == 0:
            continue
        n_lines = rng.choice(4, size=n_orders, p=LINES_PER_ORDER_P) + 1
        t_order = day * DAY + np.round(600 + rng.beta(2.2, 1.8, n_orders) * (85500 - 600))
        store = (
            np.asarray(STORES)[rng.choice(3, size=n_orders, p=STORE_SPLIT)]
            if ch == STORE
            else np.full(n_orders, -1)
        )
        oidx = np.repeat(np.arange(n_orders), n_lines)
        line = np.arange(len(oidx)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
        n = len(oidx)
        sku = rng.choice(cat.n, size=n, p=weights[ch])
        qty = np.minimum(rng.geometric(0.7, n), 6)
        gross = cat.list_price[sku] * qty
        pct = np.where(promo, rng.uniform(0.15, 0.3, n), np.where(rng.random(n) < 0.1, 0.1, 0.0))
        parts.append(
            dict(
                t=t_order[oidx].astype(np.int64),
                ch=np.full(n, ch),
                okey=oidx + ch * 10_000_000,
                line=line,
                store=store[oidx],
                sku=sku,
                qty=qty.astype(np.int64),
                discount=np.round(gross * pct).astype(np.int64),
                customer=rng.integers(1, int(50_000 * cfg.scale) + 1000, n_orders)[oidx],
                service=(
                    np.zeros(n_orders, dtype=np.int64)
                    if ch == STORE
                    else rng.choice(3, size=n_orders, p=[0.7, 0.22, 0.08])
                )[oidx],
            )
        )
    if not parts:  # a quiet day at tiny scales
        z = np.zeros(0, dtype=np.int64)
        return DayLines(z, z, z, z, z, z, z, z, z, z)
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((cols["line"], cols["okey"], cols["t"]))
    cols = {k: v[order] for k, v in cols.items()}
    new_order = np.r_[True, cols["okey"][1:] != cols["okey"][:-1]]
    return DayLines(
        order=np.cumsum(new_order) - 1,
        line=cols["line"],
        channel=cols["ch"],
        store=cols["store"],
        sku=cols["sku"],
        qty=cols["qty"],
        t=cols["t"],
        discount=cols["discount"],
        customer=cols["customer"],
        service=cols["service"],
    )
