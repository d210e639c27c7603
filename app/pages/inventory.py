"""Inventory: stock by state, node and channel; ATS; blocked stock; aging; SKU drill-down."""

from __future__ import annotations

import streamlit as st

from app.components import charts, data
from app.components.kpi_cards import definition
from app.components.sidebar import current_filters
from app.components.tables import table
from app.queries import inventory


def render() -> None:
    st.title("Inventory")
    f = current_filters()
    if not data.warehouse_ready():
        return
    defs = data.kpis()
    st.caption(
        "On-hand figures are the snapshot of the publication; the channel filter keeps the "
        "nodes that serve the channel. The date range applies to trends and movements."
    )

    by_state = data.load(inventory.stock_by_state, f)
    if by_state is not None and not by_state.is_empty():
        c = st.columns(3)
        c[0].metric("On-hand units", f"{int(by_state['quantity'].sum()):,}", border=True)
        c[1].metric("On-hand value", f"{float(by_state['value'].sum() or 0):,.0f}", border=True)
        blocked = by_state.filter(
            by_state["state"].is_in(["quality_hold", "damaged", "returned", "resale_ready"])
        )
        c[2].metric(
            "Blocked stock value",
            f"{float(blocked['value'].sum() or 0):,.0f}",
            help=defs["blocked_stock_value"].definition if "blocked_stock_value" in defs else None,
            border=True,
        )
        if "blocked_stock_value" in defs:
            definition(defs["blocked_stock_value"])

    tab_state, tab_node, tab_channel, tab_blocked, tab_aging, tab_sku = st.tabs(
        ["By state", "By node", "By channel", "Blocked stock", "Aging", "SKU drill-down"]
    )
    with tab_state:
        charts.bar(by_state, "state", "value", key="inv_state", title="On-hand value by state")
        table(by_state, "stock by state")
        trend = data.load(inventory.inventory_trend, f)
        charts.line(
            trend,
            "date",
            "value",
            color="kpi",
            key="inv_trend",
            title="Inventory and blocked stock value per day",
        )
        by_cat = data.load(inventory.stock_by_category, f)
        table(by_cat, "stock by category")
    with tab_node:
        by_node = data.load(inventory.stock_by_node, f)
        charts.bar(
            by_node,
            "node_id",
            "quantity",
            color="state",
            key="inv_node",
            title="On-hand units by node and state",
        )
        table(by_node, "stock by node")
        counts = data.load(inventory.cycle_counts, f)
        st.markdown("**Cycle counts (inventory record accuracy)**")
        if "inventory_accuracy" in defs:
            definition(defs["inventory_accuracy"])
        table(counts, "cycle counts by node")
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
    with tab_blocked:
        blocked_age = data.load(inventory.blocked_stock, f)
        charts.bar(
            blocked_age,
            "age_bucket",
            "value",
            color="state",
            key="inv_blocked",
            title="Blocked stock value by age",
        )
        table(blocked_age, "blocked stock by age")
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
