"""Fixed parameters of the simulated operation (one place to tune the world)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DAY = 86400
DAYS = 365
END = DAYS * DAY  # the simulated period: [0, END) seconds after the config's epoch0
# The default end of the reproducible history used by tests and benchmarks.
REFERENCE_END = date(2025, 12, 31)
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

# A flash sale on Amazon (served by the 3PL only) this many days before the end,
# while the 3PL's sync is delayed: fast movers oversell (issue 20).
FLASH_SALE_DAYS_BEFORE_END = 3
FLASH_SALE = (3.5, AMAZON)

SERVICE_LEVELS = ("standard", "express", "next_day")


@dataclass(frozen=True)
class SimConfig:
    scale: float
    seed: int
    imperfection_rate: float
    end: date = REFERENCE_END  # last simulated day (UTC)
    # seconds after epoch0 from which nothing has happened or been sent yet: the
    # end of the period, or the generation time when the period ends today
    cutoff: int = END

    @property
    def epoch0(self) -> int:
        """Unix seconds of the first simulated day, 00:00 UTC (DAYS days before end + 1)."""
        start = self.end - timedelta(days=DAYS - 1)
        return int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())

    @property
    def start(self) -> date:
        return self.end - timedelta(days=DAYS - 1)

    def day_of_year(self, day: int) -> int:
        """Calendar day of year (0-based) of simulated day `day`."""
        return (self.start + timedelta(days=day)).timetuple().tm_yday - 1

    def weekday(self, day: int) -> int:
        """Monday 0 .. Sunday 6 of simulated day `day`."""
        return (self.start + timedelta(days=day)).weekday()

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
