"""Fulfillment: the global filters on order lines."""

from __future__ import annotations

from opsledger.app.filters import Filters, Where, apply_filters


def order_line_where(f: Filters, alias: str = "") -> Where:
    """Global filters on fct_order_lines: order date, channel, the fulfilment node,
    and the SKU's category, class and supplier."""
    p = f"{alias}." if alias else ""
    return apply_filters(
        f,
        date_col=f"{p}ordered_at",
        channel_col=f"{p}channel",
        node_col=f"{p}fulfilment_node_id",
        sku_col=f"{p}sku",
    )
