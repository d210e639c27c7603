"""Returns: funnel, return rates (cohort), cycle times, disposition backlog, recovery."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import charts, data
from opsledger.app.components.kpi_cards import kpi_cards
from opsledger.app.components.kpi_views import breakdown
from opsledger.app.components.sidebar import current_filters
from opsledger.app.components.tables import table
from opsledger.app.kpis import RETURNS_KPIS
from opsledger.app.queries import returns

CYCLE_KPIS = (
    "refund_cycle_time_days",
    "refund_cycle_time_p90_days",
    "refund_request_to_paid_days",
    "return_to_stock_days",
)


def render() -> None:
    st.title("Returns")
    f = current_filters()
    if not data.warehouse_ready():
        return
    kpi_cards(RETURNS_KPIS, f, "ret_cards")

    st.subheader("Return rates")
    c1, c2 = st.columns(2)
    rate_kpi = c1.radio(
        "KPI",
        ["return_rate_units", "return_rate_value"],
        horizontal=True,
        key="ret_rate_kpi",
        format_func=lambda k: data.kpis()[k].name,
    )
    by = c2.radio(
        "By",
        ["category", "channel", "product_class", "node", "supplier", "month"],
        horizontal=True,
        key="ret_rate_by",
    )
    breakdown(rate_kpi, f, (by,), source="ret_rates")

    st.subheader("Cycle times")
    c1, c2 = st.columns(2)
    ct_kpi = c1.selectbox(
        "KPI", CYCLE_KPIS, format_func=lambda k: data.kpis()[k].name, key="ret_ct_kpi"
    )
    ct_by = c2.radio(
        "By ", ["channel", "category", "node", "week"], horizontal=True, key="ret_ct_by"
    )
    breakdown(ct_kpi, f, (ct_by,), source="ret_cycle")

    st.subheader("Disposition backlog")
    st.caption("The card's KPI grouped by state and node: the bars add up to the card.")
    breakdown(
        "disposition_backlog_units",
        f,
        ("state", "node"),
        source="ret_backlog",
        color="node",
        title="Disposition backlog by state and node",
    )

    st.subheader("Funnel")
    st.caption("Units of return lines requested in the date range, by the furthest step reached.")
    fun = data.load(returns.funnel, f)
    charts.funnel(fun, "units", "step", key="ret_funnel")
    table(fun, "returns funnel")

    left, right = st.columns(2)
    with left:
        st.subheader("Recovery by disposition")
        rec = data.load(returns.recovery, f)
        charts.bar(rec, "disposition", "recovery_value", key="ret_recovery")
        table(rec, "recovery by disposition")
    with right:
        st.subheader("Reasons")
        table(data.load(returns.by_reason, f), "returns by reason")


render()
