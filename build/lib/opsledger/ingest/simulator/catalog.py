"""Master data of the simulated retailer: SKUs, suppliers, assortments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import CLASSES, DC2, NODES, STORE3, STORES, TPL, SimConfig


@dataclass(frozen=True)
class Catalog:
    sku_ids: np.ndarray  # str
    class_idx: np.ndarray  # index into CLASS_NAMES
    category: np.ndarray  # str
    unit_cost: np.ndarray  # pence
    list_price: np.ndarray  # pence
    supplier: np.ndarray  # supplier index
    returnable: np.ndarray  # bool
    restock_allowed: np.ndarray  # bool
    popularity: np.ndarray  # demand weight, sums to 1
    substitute: np.ndarray  # SKU index used when a line is substituted
    stocked: np.ndarray  # bool [n_sku, n_node]: assortment per node
    supplier_ids: np.ndarray  # str
    lead_time: np.ndarray  # nominal days per supplier
    lead_sd: np.ndarray  # lead time standard deviation per supplier (days)

    @property
    def n(self) -> int:
        return len(self.sku_ids)


CLASS_NAMES: tuple[str, ...] = tuple(CLASSES)


def build_catalog(cfg: SimConfig, rng: np.random.Generator) -> Catalog:
    n, ns = cfg.n_sku, cfg.n_suppliers
    weights = np.array([c[0] for c in CLASSES.values()])
    cls = rng.choice(len(CLASS_NAMES), size=n, p=weights / weights.sum())
    cat = np.empty(n, dtype=object)
    cost = np.empty(n, dtype=np.int64)
    for ci, (_, cats, median, _) in enumerate(CLASSES.values()):
        m = cls == ci
        cat[m] = np.array(cats, dtype=object)[rng.integers(0, len(cats), m.sum())]
        cost[m] = np.maximum(50, np.round(median * rng.lognormal(0, 0.6, m.sum()))).astype(np.int64)
    # Prices end in .99 like real shelf prices.
    price = (np.ceil(cost * rng.uniform(1.6, 3.0, n) / 100) * 100 - 1).astype(np.int64)
    hygiene = cls == CLASS_NAMES.index("hygiene")
    electronics = cls == CLASS_NAMES.index("electronics")
    returnable = np.where(hygiene, rng.random(n) < 0.2, rng.random(n) < 0.98)
    restock = ~hygiene & ~electronics

    # Zipf-like popularity in random order, so SKU number says nothing about rank.
    rank = rng.permutation(n)
    pop = 1.0 / (rank + 8.0) ** 0.9
    pop /= pop.sum()

    # Substitute: the next SKU of the same category (cyclic), found by sorting.
    order = np.lexsort((np.arange(n), cat.astype(str)))
    sub = np.empty(n, dtype=np.int64)
    cat_sorted = cat[order]
    nxt = np.roll(order, -1)
    same = np.roll(cat_sorted, -1) == cat_sorted
    sub[order] = np.where(same, nxt, order)
    first_of_cat = np.r_[True, cat_sorted[1:] != cat_sorted[:-1]]
    group_first = order[np.maximum.accumulate(np.where(first_of_cat, np.arange(n), 0))]
    sub[order[~same]] = group_first[~same]

    # Assortments: DC1 everything; DC2 60%; 3PL top 40% (amazon); stores top 25%.
    stocked = np.zeros((n, len(NODES)), dtype=bool)
    stocked[:, 0] = True
    stocked[:, DC2] = (rank < 0.3 * n) | (rng.random(n) < 0.45)
    stocked[:, TPL] = rank < 0.4 * n
    for s in STORES:
        stocked[:, s] = (rank < 0.25 * n) & (rng.random(n) < 0.9)
    stocked[:, STORE3] &= stocked[:, DC2]  # STORE3 is supplied from DC2

    sku_ids = np.array([f"SKU-{i + 1:05d}" for i in range(n)], dtype=object)
    supplier_ids = np.array([f"SUP-{i + 1:03d}" for i in range(ns)], dtype=object)
    return Catalog(
        sku_ids=sku_ids,
        class_idx=cls,
        category=cat,
        unit_cost=cost,
        list_price=price,
        supplier=rng.integers(0, ns, n),
        returnable=returnable,
        restock_allowed=restock,
        popularity=pop,
        substitute=sub,
        stocked=stocked,
        supplier_ids=supplier_ids,
        lead_time=rng.integers(5, 40, ns),
        lead_sd=rng.uniform(0.5, 6.0, ns),
    )
