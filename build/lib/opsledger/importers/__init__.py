"""Importers: a merchant's own exports -> contract events in the landing area.

- `import_orders(home, file, mapping)`: order-line exports (CSV, gzip CSV,
  Parquet, Excel) with a declarative YAML column mapping (mappings/*.yml);
- `import_shopify(home, directory)`: Shopify Admin API JSON payloads.

Both are idempotent (deterministic event ids and file names) and return an
ImportSummary whose counts reconcile. See docs/importing.md.
"""

from __future__ import annotations

from opsledger.importers.mapping import MappingError, OrderMapping, load_mapping
from opsledger.importers.orders import ImportFailed, import_orders
from opsledger.importers.summary import ImportSummary


def import_shopify(home, directory):
    from opsledger.importers.shopify import import_shopify as run

    return run(home, directory)


__all__ = [
    "ImportFailed",
    "ImportSummary",
    "MappingError",
    "OrderMapping",
    "import_orders",
    "import_shopify",
    "load_mapping",
]
