"""When each node's system records (sends) its stock events: the source's own clock.

`recorded_at` of a stock event is when the sending system recorded or sent it:
- own DCs (WMS): near real time, seconds after the event;
- the 3PL: in sync batches every 2-6 hours (a row is recorded at the first sync
  after it happened), with one delay of ~34 hours without a sync around the flash
  sale near the end (config.FLASH_SALE_DAYS_BEFORE_END);
- stores (POS back office): minutes late, and one store has an outage of
  OUTAGE_HOURS that starts OUTAGE_STARTS_BEFORE_CUTOFF hours before the
  generation cutoff, so it is still going on at the end: its rows since then are
  not delivered yet.
A row recorded at or after the cutoff has not been sent yet and is left out of the
landing files (generate.py), which is what makes a node stale at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DAY, DAYS, END, FLASH_SALE_DAYS_BEFORE_END, STORE2, STORES, TPL, SimConfig
from .timeutil import HOUR, MINUTE

OUTAGE_NODE = STORE2
OUTAGE_HOURS = 40
OUTAGE_STARTS_BEFORE_CUTOFF = 30  # hours
TPL_DELAY_BEFORE_SALE = 8 * HOUR  # the 3PL's last sync before the delay: 08:00 the day before
TPL_DELAY_HOURS = 34


@dataclass(frozen=True)
class SyncPlan:
    tpl_syncs: np.ndarray  # sorted sync times of the 3PL (seconds after epoch0)
    tpl_delay: tuple[int, int]  # window without a 3PL sync
    outage_node: int
    outage: tuple[int, int]  # window in which the outage node sends nothing

    def to_dict(self, epoch0: int) -> dict:
        def iso(t: int) -> str:
            from datetime import UTC, datetime

            return datetime.fromtimestamp(epoch0 + int(t), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "tpl_sync_delay": {"from": iso(self.tpl_delay[0]), "to": iso(self.tpl_delay[1])},
            "tpl_syncs": len(self.tpl_syncs),
            "store_outage": {
                "node_index": self.outage_node,
                "from": iso(self.outage[0]),
                "to": iso(self.outage[1]),
            },
        }


def plan(cfg: SimConfig, rng: np.random.Generator) -> SyncPlan:
    sale_day = DAYS - 1 - FLASH_SALE_DAYS_BEFORE_END
    d0 = (sale_day - 1) * DAY + TPL_DELAY_BEFORE_SALE
    delay = (d0, d0 + TPL_DELAY_HOURS * HOUR)
    steps = rng.integers(2 * HOUR, 6 * HOUR, int((END + 3 * DAY) / (2 * HOUR)) + 1)
    syncs = np.cumsum(steps)
    syncs = syncs[syncs < END + 2 * DAY]
    syncs = np.sort(np.r_[syncs[(syncs <= delay[0]) | (syncs >= delay[1])], delay[1]])
    o0 = cfg.cutoff - OUTAGE_STARTS_BEFORE_CUTOFF * HOUR
    return SyncPlan(syncs, delay, OUTAGE_NODE, (o0, o0 + OUTAGE_HOURS * HOUR))


def recorded(sp: SyncPlan, node: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """recorded_at (seconds after epoch0) of stock rows of `node` that happened at `t`."""
    n = len(t)
    rec = t + rng.integers(5, 90, n)  # own DCs
    tpl = node == TPL
    at = np.searchsorted(sp.tpl_syncs, t[tpl], side="right")
    rec[tpl] = sp.tpl_syncs[np.minimum(at, len(sp.tpl_syncs) - 1)]
    store = np.isin(node, STORES)
    rec[store] = t[store] + rng.integers(2 * MINUTE, 40 * MINUTE, int(store.sum()))
    o0, o1 = sp.outage
    down = (node == sp.outage_node) & (rec >= o0) & (rec < o1)
    rec[down] = o1 + rng.integers(0, 20 * MINUTE, int(down.sum()))
    return np.maximum(rec, t)
