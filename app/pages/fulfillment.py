"""Fulfillment: unit and order fill rates, exceptions by age, oversold units and staleness."""

from __future__ import annotations

import streamlit as st

from app.components import charts, data
from app.components.kpi_cards import definition, kpi_card
from app.components.sidebar import current_filters
from app.components.tables import table
from app.queries import fulfillment, overview, staleness


def render() -> None:
    st.title("Fulfillment")
    f = current_filters()
    if not data.warehouse_ready():
        return
    defs = data.kpis()
    st.caption("Computed from `marts.fct_order_lines` for orders placed in the date range.")

    views = data.load(fulfillment.fill_rate_views, f)
    total = views["total"] if views is not None else None
    if total is not None:
        c = st.columns(3)
        row = total.to_dicts()[0] if not total.is_empty() else {}
        for col, key in zip(c[:2], ("unit_fill_rate", "order_fill_rate"), strict=True):
            if key in defs:
                with col:
                    value = row.get(key)
                    kpi_card(defs[key], value, defs[key].status(value))
        with c[2]:
            over = data.load(fulfillment.oversold, f)
            if over is not None and "oversold_units" in defs:
                units = float(over["oversold_units"].sum() or 0) if not over.is_empty() else 0.0
                kpi_card(defs["oversold_units"], units, defs["oversold_units"].status(units))

    st.subheader("Fill rates by channel")
    by_channel = views["channel"] if views is not None else None
    charts.bar(by_channel, "channel", "unit_fill_rate", key="ful_channel")
    table(by_channel, "fill rates by channel")
    weekly = views["week"] if views is not None else None
    target = defs["unit_fill_rate"].target if "unit_fill_rate" in defs else None
    charts.line(
        weekly,
        "week",
        "unit_fill_rate",
        key="ful_week",
        target=target,
        title="Unit fill rate per order week",
    )
    table(weekly, "fill rates by week")

    st.subheader("Open exceptions by age")
    if "open_order_exceptions" in defs:
        definition(defs["open_order_exceptions"])
    exc = data.load(fulfillment.exceptions_by_age, f)
    charts.bar(exc, "age_bucket", "lines", color="exception_type", key="ful_exc")
    table(exc, "exceptions by age")

    st.subheader("Oversold units beside node staleness")
    if "oversold_units" in defs:
        definition(defs["oversold_units"])
    left, right = st.columns(2)
    with left:
        weekly_over = data.load(fulfillment.oversold_by_week, f)
        charts.bar(weekly_over, "week", "oversold_units", color="channel", key="ful_over")
        table(data.load(fulfillment.oversold, f), "oversold by channel")
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
