"""Global filters and the parameterised SQL they turn into (no Streamlit here).

Values always travel as named parameters; only identifiers that come from the
warehouse catalog or from the code itself are ever put into SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from opsledger.metrics.service import Slice


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    channels: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    product_classes: tuple[str, ...] = ()
    suppliers: tuple[str, ...] = ()

    def key(self) -> tuple[Any, ...]:
        return (
            self.start,
            self.end,
            self.channels,
            self.nodes,
            self.categories,
            self.product_classes,
            self.suppliers,
        )

    def by_dimension(self) -> dict[str, tuple[str, ...]]:
        """The metrics service's dimension -> values of the narrowed dimensions."""
        dims = {
            "channel": self.channels,
            "node": self.nodes,
            "category": self.categories,
            "product_class": self.product_classes,
            "supplier": self.suppliers,
        }
        return {d: tuple(v) for d, v in dims.items() if v}

    def active_dimensions(self) -> list[str]:
        """Dimensions the user narrowed, in display order."""
        return list(self.by_dimension())

    def values_for(self, dimension: str) -> tuple[str, ...]:
        return self.by_dimension().get(dimension, ())

    def to_slice(self) -> Slice:
        """The metrics service's slice: the date range and every dimension filter."""
        return Slice(start=self.start, end=self.end, filters=self.by_dimension())


def qi(identifier: str) -> str:
    """Quote an identifier taken from the catalog or the code (never from user values)."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass
class Where:
    """Accumulates conditions and their named parameters."""

    conditions: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, condition: str, **params: Any) -> Where:
        self.conditions.append(condition)
        self.params.update(params)
        return self

    def sql(self, keyword: str = "where") -> str:
        if not self.conditions:
            return ""
        return f" {keyword} " + " and ".join(f"({c})" for c in self.conditions)

    def and_sql(self) -> str:
        return "".join(f" and ({c})" for c in self.conditions)


def apply_filters(
    f: Filters,
    *,
    date_col: str | None = None,
    channel_col: str | None = None,
    node_col: str | None = None,
    sku_col: str | None = None,
    channel_via_node: bool = False,
    category_col: str | None = None,
    where: Where | None = None,
) -> Where:
    """Conditions for the global filters on the columns a table has.

    `channel_via_node`: a table without a channel (stock) reads a channel filter as
    "the nodes that serve the channel" (dim_node.channels_served, pipe-separated).
    """
    w = where or Where()
    if date_col and f.start:
        w.add(f"cast({date_col} as date) >= $f_start", f_start=f.start)
    if date_col and f.end:
        w.add(f"cast({date_col} as date) <= $f_end", f_end=f.end)
    if channel_col and f.channels:
        w.add(
            f"list_contains($f_channels, cast({channel_col} as varchar))",
            f_channels=list(f.channels),
        )
    elif node_col and channel_via_node and f.channels:
        w.add(
            f"{node_col} in (select node_id from marts.dim_node"
            " where list_has_any(string_split(channels_served, '|'), $f_channels))",
            f_channels=list(f.channels),
        )
    if node_col and f.nodes:
        w.add(f"list_contains($f_nodes, cast({node_col} as varchar))", f_nodes=list(f.nodes))
    if category_col and f.categories:
        w.add(
            f"list_contains($f_categories, cast({category_col} as varchar))",
            f_categories=list(f.categories),
        )
    elif sku_col and f.categories:
        w.add(
            f"{sku_col} in (select sku from marts.dim_sku where list_contains($f_categories, category))",
            f_categories=list(f.categories),
        )
    if sku_col and f.product_classes:
        w.add(
            f"{sku_col} in (select sku from marts.dim_sku"
            " where list_contains($f_classes, product_class))",
            f_classes=list(f.product_classes),
        )
    if sku_col and f.suppliers:
        w.add(
            f"{sku_col} in (select sku from marts.dim_sku"
            " where list_contains($f_suppliers, supplier_id))",
            f_suppliers=list(f.suppliers),
        )
    return w
