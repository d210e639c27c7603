"""Finance: gross margin, margin leakage by component, refunds paid, return liabilities,
stock-GL tie-out."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import charts, data
from opsledger.app.components.kpi_cards import definition, kpi_cards
from opsledger.app.components.kpi_views import breakdown
from opsledger.app.components.sidebar import current_filters
from opsledger.app.components.tables import table
from opsledger.app.kpis import FINANCE_KPIS
from opsledger.app.queries import finance


def render() -> None:
    st.title("Finance")
    f = current_filters()
    if not data.warehouse_ready():
        return
    kpi_cards(FINANCE_KPIS, f, "fin_cards")

    st.subheader("Gross margin")
    c1, c2 = st.columns(2)
    kpi = c1.radio(
        "KPI",
        ["gross_margin", "gross_margin_rate", "margin_leakage"],
        horizontal=True,
        key="fin_kpi",
        format_func=lambda k: data.kpis()[k].name,
    )
    by = c2.radio("By", ["channel", "category", "month"], horizontal=True, key="fin_by")
    breakdown(kpi, f, (by,), source="fin_gm")

    st.subheader("Margin leakage by component")
    definition(data.kpis()["margin_leakage"])
    leak = data.load(finance.margin_leakage, f)
    charts.bar(leak, "component", "amount", key="fin_leak")
    table(leak, "margin leakage", units={"amount": "currency"})

    st.subheader("Refunds paid")
    st.caption(
        "Return refunds give back money for goods invoiced at shipment (sales_returns: they"
        " lower net revenue and gross margin). Cancellation refunds give back money for"
        " units never shipped: they reverse the payment (accounts_receivable) and are in"
        " neither margin, margin leakage nor return liabilities."
    )
    table(data.load(finance.refunds_paid, f), "refunds paid", units={"amount": "currency"})

    left, right = st.columns(2)
    with left:
        st.subheader("Return liabilities")
        st.caption(
            "Return lines requested or authorized whose refund is not paid in full: the"
            " refund owed less refunds paid (fct_return_liabilities)."
        )
        table(data.load(finance.return_liabilities, f), "return liabilities")
    with right:
        st.subheader("Stock versus GL tie-out")
        st.caption(
            "The stock ledger's on-hand value against the GL inventory balance, over the"
            " stock whose cost is known or assumed (units of unknown cost have no value)."
        )
        table(data.load(finance.stock_gl_tieout, f), "stock gl tieout")

    st.subheader("GL by account")
    table(data.load(finance.gl_by_account, f), "gl by account")


render()
