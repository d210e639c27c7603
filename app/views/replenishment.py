"""Replenishment: SKUs at risk, and blocked stock that could cover the demand."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import data
from opsledger.app.components.kpi_cards import kpi_cards
from opsledger.app.components.kpi_views import breakdown
from opsledger.app.components.sidebar import current_filters
from opsledger.app.components.tables import table
from opsledger.app.kpis import REPLENISHMENT_KPIS
from opsledger.app.queries import replenishment
from opsledger.models.domain import load_domain


def render() -> None:
    st.title("Replenishment")
    f = current_filters()
    if not data.warehouse_ready():
        return
    kpi_cards(REPLENISHMENT_KPIS, f, "rep_cards")
    breakdown("skus_at_replenishment_risk", f, ("category",), source="rep_cat")
    breakdown("supplier_otif", f, ("supplier",), source="rep_otif")
    risk = data.load(replenishment.at_risk, f)
    if risk is None:
        return
    only_coverable = st.toggle("Only SKUs that blocked stock could cover", key="rep_cover")
    shown = risk.filter(risk["blocked_could_cover"]) if only_coverable else risk
    table(
        shown,
        "skus at replenishment risk",
        caption=f"Blocked units: the SKU's stock in {', '.join(load_domain().blocked_states)}"
        " over all nodes. Blocked could cover: releasing the units inspected or awaiting"
        " release would lift projected available to the reorder point.",
    )


render()
