"""Fulfillment: unit and order fill rates, exceptions, oversold units and staleness."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import data
from opsledger.app.components.kpi_cards import kpi_cards
from opsledger.app.components.kpi_views import breakdown
from opsledger.app.components.sidebar import current_filters
from opsledger.app.components.tables import table
from opsledger.app.kpis import FULFILLMENT_KPIS
from opsledger.app.queries import overview, staleness


def render() -> None:
    st.title("Fulfillment")
    f = current_filters()
    if not data.warehouse_ready():
        return
    kpi_cards(FULFILLMENT_KPIS, f, "ful_cards")

    st.subheader("Fill rates")
    c1, c2 = st.columns(2)
    kpi = c1.radio(
        "KPI",
        ["unit_fill_rate", "order_fill_rate"],
        horizontal=True,
        key="ful_kpi",
        format_func=lambda k: data.kpis()[k].name,
    )
    by = c2.radio("By", ["channel", "node", "category", "week"], horizontal=True, key="ful_by")
    breakdown(kpi, f, (by,), source="ful_fill")
    breakdown(
        "unit_fill_rate",
        f,
        ("week",),
        source="ful_week",
        chart="line",
        title="Unit fill rate per promised week",
        show_definition=False,
        show_table=False,
    )

    st.subheader("Open exceptions")
    breakdown("open_order_exceptions", f, ("channel",), source="ful_exc")

    st.subheader("Oversold units beside node staleness")
    left, right = st.columns(2)
    with left:
        breakdown("oversold_units", f, ("week",), source="ful_over", chart="line")
    with right:
        table(
            data.load(overview.node_freshness, f),
            "node staleness",
            caption="Oversold orders are accepted while a node's stock was stale.",
        )
    table(
        data.load(staleness.oversold_by_stale_node, f),
        "oversold by stale node",
        caption="Per node whose unreported stock the system believed available at order time.",
    )


render()
