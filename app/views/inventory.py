"""Inventory: stock by state, node and channel; ATS; blocked stock; aging; SKU drill-down."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import charts, data
from opsledger.app.components.kpi_cards import kpi_cards
from opsledger.app.components.kpi_views import breakdown
from opsledger.app.components.sidebar import current_filters
from opsledger.app.components.tables import table
from opsledger.app.kpis import INVENTORY_KPIS
from opsledger.app.queries import inventory


def render() -> None:
    st.title("Inventory")
    f = current_filters()
    if not data.warehouse_ready():
        return
    st.caption(
        "Stock KPIs are the end-of-day snapshot of the range's last day (fct_stock_daily);"
        " the on-hand tables are the publication's current snapshot (fct_stock_on_hand)."
        " Units whose cost is unknown have no value (never 0): the values are over the"
        " units of known or assumed cost, with that coverage on the cards."
    )
    by_state = data.load(inventory.stock_by_state, f)
    if by_state is not None and not by_state.is_empty():
        st.metric("On-hand units", f"{int(by_state['quantity'].sum()):,}", border=True)
    kpi_cards(INVENTORY_KPIS, f, "inv_cards")

    tab_state, tab_node, tab_channel, tab_aging, tab_sku = st.tabs(
        ["By state", "By node", "By channel", "Aging", "SKU drill-down"]
    )
    with tab_state:
        breakdown("inventory_value", f, ("state",), source="inv_state")
        breakdown(
            "blocked_stock_value",
            f,
            ("state", "node"),
            source="inv_blocked",
            color="node",
            title="Blocked stock value by state and node",
        )
        breakdown(
            "inventory_value",
            f,
            ("week",),
            source="inv_trend",
            chart="line",
            title="Inventory value at the end of each week",
            show_definition=False,
            show_table=False,
        )
    with tab_node:
        breakdown("inventory_value", f, ("node",), source="inv_node", show_definition=False)
        breakdown("inventory_accuracy", f, ("node",), source="inv_ira")
    with tab_channel:
        ats = data.load(inventory.available_to_sell, f)
        st.markdown(
            "**Available-to-sell by channel** (available stock of the serving nodes "
            "less the channel's safety buffer)"
        )
        charts.bar(ats, "channel", "available_to_sell", key="inv_ats")
        table(ats, "available to sell")
        served = data.load(inventory.stock_by_channel, f)
        table(
            served,
            "available stock of serving nodes",
            caption="Available on-hand units of the nodes that serve each channel.",
        )
    with tab_aging:
        aging = data.load(inventory.aging, f)
        charts.bar(
            aging, "age_bucket", "value", key="inv_aging", title="FIFO on-hand value by age bucket"
        )
        table(aging, "inventory aging")
    with tab_sku:
        skus = data.load(inventory.top_skus, f)
        if skus is not None and not skus.is_empty():
            sku = st.selectbox("SKU (by on-hand value)", skus["sku"].to_list(), key="inv_sku")
            if sku:
                table(data.load(inventory.sku_profile, None, sku), f"sku {sku} master data")
                daily = data.load(inventory.sku_daily, f, sku)
                charts.line(
                    daily,
                    "date",
                    "quantity",
                    color="state",
                    key="inv_sku_daily",
                    title=f"{sku}: end-of-day units by state",
                )
                moves = data.load(inventory.sku_movements, f, sku)
                table(
                    moves,
                    f"sku {sku} movements",
                    caption="Every stock movement of the SKU (the ledger), newest first.",
                )


render()
