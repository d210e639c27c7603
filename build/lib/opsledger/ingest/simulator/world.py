"""Mutable simulation state shared by the day-loop steps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .catalog import Catalog
from .config import DAY, DAYS, NODES, SimConfig
from .events import EventBuffer


@dataclass
class World:
    cfg: SimConfig
    cat: Catalog
    rng: np.random.Generator
    buf: EventBuffer
    # available at the start of the current day, and what is left to take today:
    # every decrement of a day is bounded by its opening stock, increments count
    # from the next day on, so no replay order within a day can go negative.
    avail: np.ndarray = field(init=False)
    budget: np.ndarray = field(init=False)
    incoming: np.ndarray = field(init=False)  # [day, sku, node] increments stamped that day
    pipeline: np.ndarray = field(init=False)  # future increments already scheduled
    rate: np.ndarray = field(init=False)  # smoothed demand, units/day per sku x node
    demand_today: np.ndarray = field(init=False)
    counters: dict[str, int] = field(default_factory=dict)
    day: int = 0
    trending: np.ndarray = field(init=False)  # SKUs whose demand ramps up at the end
    # what the scenario did, for the ground truth (counts, times in seconds)
    scenario: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (self.cat.n, len(NODES))
        self.avail = np.zeros(shape, dtype=np.int64)
        self.budget = np.zeros(shape, dtype=np.int64)
        self.incoming = np.zeros((DAYS, *shape), dtype=np.int32)
        self.pipeline = np.zeros(shape, dtype=np.int64)
        self.rate = np.zeros(shape, dtype=np.float64)
        self.demand_today = np.zeros(shape, dtype=np.float64)
        self.trending = np.zeros(0, dtype=np.int64)

    def ids(self, name: str, n: int) -> np.ndarray:
        """Next n sequence numbers of a named counter (1-based, deterministic)."""
        start = self.counters.get(name, 0)
        self.counters[name] = start + n
        return np.arange(start + 1, start + n + 1, dtype=np.int64)

    def take(self, sku: np.ndarray, node: np.ndarray, qty: np.ndarray) -> None:
        """Book decrements of `available` for today (caller checked the budget)."""
        np.subtract.at(self.budget, (sku, node), qty)
        if (self.budget < 0).any():
            raise AssertionError("available budget went negative")

    def schedule(self, t: np.ndarray, sku: np.ndarray, node: np.ndarray, qty: np.ndarray) -> None:
        """Book future increments of `available` stamped at time t."""
        day = t // DAY
        if (day < self.day).any():
            raise AssertionError("increment scheduled in the past")
        m = day < DAYS
        np.add.at(self.incoming, (day[m], sku[m], node[m]), qty[m])
        np.add.at(self.pipeline, (sku[m], node[m]), qty[m])

    def close_day(self) -> None:
        today = self.incoming[self.day].astype(np.int64)
        self.avail = self.budget + today
        self.pipeline -= today
        self.rate = 0.93 * self.rate + 0.07 * self.demand_today
        self.demand_today[:] = 0
        self.day += 1
        self.budget = self.avail.copy()
