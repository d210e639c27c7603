"""First-come-first-served allocation of order lines to node stock, vectorised."""

from __future__ import annotations

import numpy as np


def allocate(budget: np.ndarray, sku: np.ndarray, cand: np.ndarray, qty: np.ndarray) -> np.ndarray:
    """Assign each line (in the given priority order) to the first candidate node
    whose remaining budget covers it; returns node index or -1. Mutates `budget`.

    Within a SKU x node group, lines are served in order while the running total
    fits; later lines in the group try their next candidate node.
    """
    n_nodes = budget.shape[1]
    assigned = np.full(len(sku), -1, dtype=np.int64)
    for r in range(cand.shape[1]):
        idx = np.flatnonzero((assigned < 0) & (cand[:, r] >= 0))
        if len(idx) == 0:
            continue
        key = sku[idx] * n_nodes + cand[idx, r]
        order = np.argsort(key, kind="stable")  # stable keeps priority within a group
        k, q, pos = key[order], qty[idx][order], idx[order]
        start = np.r_[True, k[1:] != k[:-1]]
        cs = np.cumsum(q)
        first = np.maximum.accumulate(np.where(start, np.arange(len(k)), 0))
        running = cs - cs[first] + q[first]
        ok = running <= budget.reshape(-1)[k]
        assigned[pos[ok]] = cand[pos[ok], r]
        np.subtract.at(budget.reshape(-1), k[ok], q[ok])
    return assigned
