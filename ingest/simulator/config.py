"""Fixed parameters of the simulated operation (one place to tune the world)."""

from __future__ import annotations

from dataclasses import dataclass

EPOCH0 = 1735689600  # 2025-01-01T00:00:00Z; all internal times are seconds after it
DAY = 86400
DAYS = 365
END = DAYS * DAY
# Stock events that touch `available` are stamped at or after this second of the
# day, so cycle counts (00:01-00:05) see exactly the previous day's closing stock.
SAFE_SECOND = 360

CURRENCY = "GBP"

# Nodes: id, type, channels served (master data), sending system, timezone style.
NODES: tuple[tuple[str, str, str, str], ...] = (
    ("DC1", "own_dc", "web|ebay", "wms-dc1"),
    ("DC2", "own_dc", "web|ebay", "wms-dc2"),
    ("3PL1", "3pl", "amazon|web", "3pl-acme"),
    ("STORE1", "store", "store", "pos-store1"),
    ("STORE2", "store", "store", "pos-store2"),
    ("STORE3", "store", "store", "pos-store3"),
)
DC1, DC2, TPL, STORE1, STORE2, STORE3 = range(6)
STORES = (STORE1, STORE2, STORE3)
STOCKING_NODES = (DC1, DC2, TPL)  # replenished by purchase orders
STORE_SOURCE_DC = {STORE1: DC1, STORE2: DC1, STORE3: DC2}

# Channels: id, name, safety buffer, share of order lines, sending system.
CHANNELS: tuple[tuple[str, str, int, float, str], ...] = (
    ("web", "Web store", 2, 0.45, "storefront"),
    ("amazon", "Amazon marketplace", 3, 0.25, "amazon"),
    ("ebay", "eBay marketplace", 1, 0.10, "ebay"),
    ("store", "Stores (POS)", 0, 0.20, "pos"),
)
WEB, AMAZON, EBAY, STORE = range(4)
# Allocation priority of nodes per channel (store sales use their own store).
CHANNEL_NODES: dict[int, tuple[int, ...]] = {
    WEB: (DC1, DC2, TPL),
    AMAZON: (TPL,),
    EBAY: (DC2, DC1),
}

# Product classes: weight, categories, unit cost median (pence), return rate.
CLASSES: dict[str, tuple[float, tuple[str, ...], int, float]] = {
    "standard": (0.35, ("kitchen", "toys", "garden", "books", "sports"), 900, 0.045),
    "apparel": (0.30, ("tops", "bottoms", "footwear", "outerwear"), 1400, 0.25),
    "electronics": (0.12, ("audio", "phone_accessories", "computing"), 3500, 0.08),
    "hygiene": (0.10, ("beauty", "personal_care"), 500, 0.03),
    "fragile": (0.13, ("glassware", "ceramics", "home_decor"), 1200, 0.05),
}

# Order volume: lines per day at scale 1 (average over the year, before seasonality).
LINES_PER_DAY = 1000.0

# Promotion days (day of year, 0-based) -> (demand multiplier, channel or -1 for all).
PROMOTIONS: dict[int, tuple[float, int]] = {
    72: (1.8, -1),  # spring sale 14-16 March
    73: (1.8, -1),
    74: (1.6, -1),
    188: (3.0, AMAZON),  # Prime Day 8-9 July
    189: (2.5, AMAZON),
    331: (3.0, -1),  # Black Friday 28 Nov
    334: (2.5, -1),  # Cyber Monday 1 Dec
}

SERVICE_LEVELS = ("standard", "express", "next_day")


@dataclass(frozen=True)
class SimConfig:
    scale: float
    seed: int
    imperfection_rate: float

    @property
    def n_sku(self) -> int:
        # SKUs grow sub-linearly so tiny scales still have a meaningful catalogue.
        return max(60, round(2000 * self.scale**0.5))

    @property
    def n_suppliers(self) -> int:
        return max(6, min(40, round(40 * self.scale**0.5)))

    @property
    def lines_per_day(self) -> float:
        return LINES_PER_DAY * self.scale
