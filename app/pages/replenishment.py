"""Replenishment: SKUs at risk, and blocked stock that could cover the demand."""

from __future__ import annotations

import streamlit as st

from app.components import charts, data
from app.components.kpi_cards import definition
from app.components.sidebar import current_filters
from app.components.tables import table
from app.queries import replenishment


def render() -> None:
    st.title("Replenishment")
    f = current_filters()
    if not data.warehouse_ready():
        return
    defs = data.kpis()
    if "skus_at_replenishment_risk" in defs:
        definition(defs["skus_at_replenishment_risk"])
    risk = data.load(replenishment.at_risk, f)
    if risk is None:
        return
    c = st.columns(2)
    c[0].metric(
        "SKUs at risk", f"{risk['sku'].n_unique():,}" if not risk.is_empty() else "0", border=True
    )
    coverable = int(risk["blocked_could_cover"].sum()) if not risk.is_empty() else 0
    c[1].metric("...of which blocked stock could cover the gap", f"{coverable:,}", border=True)
    by_cat = replenishment.risk_by_category(risk)
    charts.bar(by_cat, "category", "skus_at_risk", key="rep_cat", title="SKUs at risk by category")
    table(by_cat, "replenishment risk by category")
    only_coverable = st.toggle("Only SKUs that blocked stock could cover", key="rep_cover")
    shown = risk.filter(risk["blocked_could_cover"]) if only_coverable else risk
    table(
        shown,
        "skus at replenishment risk",
        caption="Blocked units are quality_hold, damaged, returned and resale_ready stock of "
        "the SKU (at the same node when the mart is per node).",
    )


render()
