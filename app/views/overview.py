"""Overview: the executive KPIs against their targets, trends, SLA breaches, late shipments,
stale nodes, gate."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import charts, data
from opsledger.app.components.kpi_cards import kpi_cards
from opsledger.app.components.kpi_views import breakdown
from opsledger.app.components.ledger_exceptions import exceptions_metric
from opsledger.app.components.sidebar import current_filters
from opsledger.app.components.tables import table
from opsledger.app.kpis import OVERVIEW_KPIS, SLA_KPIS
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

    st.subheader("SLA breaches")
    st.caption(
        "Items past their node's SLA (models/domain.yml) and still open at the end of the"
        " range: refunds, order exceptions and dispositions overdue, days of stock update"
        " latency above target, stale feeds (marts.fct_sla_breaches)."
    )
    kpi_cards(tuple(k for k in SLA_KPIS if k in defs), f, "ov_sla_cards", per_row=5)
    table(data.load(overview.open_sla_breaches, f), "open sla breaches")

    left, right = st.columns(2)
    with left:
        st.subheader("Late shipments")
        st.caption("Order lines not shipped in full by the promised date, per promised week.")
        late = data.load(overview.late_shipments, f)
        charts.bar(late, "week", "lines_breached", color="channel", key="ov_sla")
        table(late, "late shipments")
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
