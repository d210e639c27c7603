"""Master data as upsert events (products, locations, channels, suppliers)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from opsledger.models.domain import load_domain

from .catalog import CLASS_NAMES, Catalog
from .config import CHANNELS, NODES

DOMAIN = load_domain()
# Delivered in dependency order (products refer to suppliers), as a PIM/ERP export
# would be; ingest would otherwise hold products until their supplier arrives.
MASTER_FILES = ("00_suppliers.csv", "01_channels.csv", "02_locations.csv", "03_products.csv")


def _money(p: pl.Series) -> pl.Series:
    return (p // 100).cast(pl.Utf8) + "." + (p % 100).cast(pl.Utf8).str.zfill(2)


def master_frames(cat: Catalog, epoch0: int) -> list[pl.DataFrame]:
    """One frame per master file (all master columns, strings, empty = unused)."""
    sku = pl.Series(cat.sku_ids.tolist(), dtype=pl.Utf8)
    category = pl.Series(cat.category.tolist(), dtype=pl.Utf8)
    products = pl.DataFrame(
        {
            "event_id": "prd-" + sku,
            "event_type": "product_upserted",
            "source": "pim",
            "sku": sku,
            "category": category,
            "product_class": pl.Series([CLASS_NAMES[i] for i in cat.class_idx.tolist()]),
            "unit_cost": _money(pl.Series(cat.unit_cost)),
            "list_price": _money(pl.Series(cat.list_price)),
            "supplier_id": pl.Series(cat.supplier_ids[cat.supplier].tolist(), dtype=pl.Utf8),
            "description": category.str.replace("_", " ") + " item " + sku.str.slice(4),
            "returnable": pl.Series(cat.returnable.tolist()).cast(pl.Utf8),
            "restock_allowed": pl.Series(cat.restock_allowed.tolist()).cast(pl.Utf8),
        }
    )
    locations = pl.DataFrame(
        {
            "event_id": [f"loc-{n[0]}" for n in NODES],
            "event_type": "location_upserted",
            "source": "erp",
            "node_id": [n[0] for n in NODES],
            "node_type": [n[1] for n in NODES],
            "channels": [n[2] for n in NODES],
            "name": [f"{n[0]} ({n[1]})" for n in NODES],
        }
    )
    channels = pl.DataFrame(
        {
            "event_id": [f"chn-{c[0]}" for c in CHANNELS],
            "event_type": "channel_upserted",
            "source": "erp",
            "channel_id": [c[0] for c in CHANNELS],
            "name": [c[1] for c in CHANNELS],
            "safety_buffer_units": [str(c[2]) for c in CHANNELS],
        }
    )
    sup = cat.supplier_ids.tolist()
    suppliers = pl.DataFrame(
        {
            "event_id": [f"sup-{s}" for s in sup],
            "event_type": "supplier_upserted",
            "source": "erp",
            "supplier_id": sup,
            "lead_time_days": [str(x) for x in cat.lead_time.tolist()],
            "name": [f"Supplier {s[4:]} Ltd" for s in sup],
        }
    )
    cols = DOMAIN.source_fields("master")
    period_start = datetime.fromtimestamp(epoch0, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for df in (suppliers, channels, locations, products):
        df = df.with_columns(event_time=pl.lit(period_start))
        out.append(
            df.select(
                [
                    pl.col(c) if c in df.columns else pl.lit(None, dtype=pl.Utf8).alias(c)
                    for c in cols
                ]
            )
        )
    return out
