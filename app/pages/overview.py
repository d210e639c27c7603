"""Overview: the executive KPIs against their targets, trends, SLA breaches, stale nodes, gate."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import charts, data
from opsledger.app.components.kpi_cards import kpi_cards
from opsledger.app.components.kpi_views import breakdown
from opsledger.app.components.ledger_exceptions import exceptions_metric
from opsledger.app.components.sidebar import current_filters
from opsledger.app.components.tables import table
from opsledger.app.kpis import OVERVIEW_KPIS
from opsledger.app.queries import overview


def render() -> None:
    st.title("Overview")
    f = current_filters()
    if not data.warehouse_ready():
        return
    defs = data.kpis()
    shown = tuple(k for k in OVERVIEW_KPIS if k in defs)
    kpi_cards(shown, f, "ov_cards")

    exceptions_metric()
    st.subheader("Trend")
    c1, c2 = st.columns([2, 1])
    trend_kpi = c1.selectbox(
        "KPI", list(shown), format_func=lambda k: defs[k].name, key="ov_trend_kpi"
    )
    grain = c2.radio("Grain", ["day", "week", "month"], index=1, horizontal=True, key="ov_grain")
    kpi = defs[trend_kpi]
    breakdown(kpi.kpi, f, (grain,), source="ov_trend", chart="line", title=kpi.name)
    dims = list(kpi.dimensions)
    if dims:
        dim = st.radio("Drill down by", dims, horizontal=True, key="ov_dim")
        breakdown(kpi.kpi, f, (dim,), source="ov_by_dim", show_definition=False)

    left, right = st.columns(2)
    with left:
        st.subheader("SLA breaches")
        st.caption("Order lines not shipped in full by the promised date, per promised week.")
        breaches = data.load(overview.sla_breaches, f)
        charts.bar(breaches, "week", "lines_breached", color="channel", key="ov_sla")
        table(breaches, "sla breaches")
    with right:
        st.subheader("Stale nodes")
        st.caption(
            "A node is stale when its last stock event is older than its SLA (the node's,"
            " else its node type's; marts.fct_node_freshness)."
        )
        fresh = data.load(overview.node_freshness, f)
        if fresh is not None:
            st.metric("Stale nodes", int(fresh["is_stale"].sum()), border=True)
        table(fresh, "node freshness")

    st.subheader("Last quality gate")
    gate = data.load(overview.last_gate)
    if gate is not None and not gate.is_empty():
        failed = int(gate["failed"].sum())
        if failed:
            st.error(f"{failed} expectations failed in the last gate run.")
        else:
            st.success(
                f"Gate passed: {int(gate['passed'].sum())} expectations passed, "
                f"{int(gate['warnings'].sum())} warnings."
            )
    table(gate, "last gate")


render()
