"""Returns: funnel, return rates (cohort), cycle times, disposition backlog, recovery."""

from __future__ import annotations

import streamlit as st

from app.components import charts, data
from app.components.kpi_cards import definition, kpi_cards
from app.components.sidebar import current_filters
from app.components.tables import table
from app.kpis import RETURNS_KPIS
from app.queries import overview, returns


def render() -> None:
    st.title("Returns")
    f = current_filters()
    if not data.warehouse_ready():
        return
    defs = data.kpis()
    shown = tuple(defs[k] for k in RETURNS_KPIS if k in defs)
    kpi_cards(data.load(overview.kpi_values, f, shown), defs)

    st.subheader("Funnel")
    st.caption("Units of return lines requested in the date range, by the furthest step reached.")
    fun = data.load(returns.funnel, f)
    charts.funnel(fun, "units", "step", key="ret_funnel")
    table(fun, "returns funnel")

    st.subheader("Return rates")
    if "return_rate_units" in defs:
        definition(defs["return_rate_units"])
    by = st.radio(
        "By", ["category", "channel", "sku", "reason", "cohort"], horizontal=True, key="ret_rate_by"
    )
    rates = data.load(returns.return_rates, f, by)
    charts.bar(
        rates, by, "return_rate_units", key="ret_rates", title=f"Return rate (units) by {by}"
    )
    table(
        rates,
        f"return rates by {by}",
        caption="Order lines shipped in the date range (ship-month cohort); returns "
        "authorized against them, whenever they came.",
    )
    with st.expander("Governed cohort mart (fct_return_rate_cohorts)"):
        table(data.load(returns.cohort_table, f), "return rate cohorts")

    st.subheader("Cycle times")
    for key in ("refund_cycle_time_days", "refund_request_to_paid_days", "return_to_stock_days"):
        if key in defs:
            definition(defs[key])
    ct_by = st.radio("By ", ["channel", "category"], horizontal=True, key="ret_ct_by")
    times = data.load(returns.cycle_times, f, ct_by)
    charts.bar(
        times, ct_by, "refund_days_median", key="ret_cycle", title="Refund cycle time (median days)"
    )
    table(times, f"cycle times by {ct_by}")

    left, right = st.columns(2)
    with left:
        st.subheader("Disposition backlog by age")
        if "disposition_backlog_units" in defs:
            definition(defs["disposition_backlog_units"])
        backlog = data.load(returns.disposition_backlog, f)
        charts.bar(backlog, "age_bucket", "units", color="state", key="ret_backlog")
        table(backlog, "disposition backlog")
    with right:
        st.subheader("Recovery by disposition")
        rec = data.load(returns.recovery, f)
        charts.bar(rec, "disposition", "recovery_value", key="ret_recovery")
        table(rec, "recovery by disposition")
    st.subheader("Reasons")
    table(data.load(returns.by_reason, f), "returns by reason")


render()
