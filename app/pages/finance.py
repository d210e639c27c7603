"""Finance: gross margin, margin leakage by component, return liabilities, stock-GL tie-out."""

from __future__ import annotations

import streamlit as st

from app.components import charts, data
from app.components.kpi_cards import definition, kpi_cards
from app.components.sidebar import current_filters
from app.components.tables import table
from app.kpis import FINANCE_KPIS
from app.queries import finance, overview


def render() -> None:
    st.title("Finance")
    f = current_filters()
    if not data.warehouse_ready():
        return
    defs = data.kpis()
    shown = tuple(defs[k] for k in FINANCE_KPIS if k in defs)
    kpi_cards(data.load(overview.kpi_values, f, shown), defs)

    st.subheader("Gross margin by channel")
    if "gross_margin" in defs:
        definition(defs["gross_margin"])
    gm = data.load(finance.gross_margin_by_channel, f)
    charts.bar(gm, "channel", "gross_margin", key="fin_gm")
    table(gm, "gross margin by channel")

    st.subheader("Margin leakage by component")
    if "margin_leakage" in defs:
        definition(defs["margin_leakage"])
    leak = data.load(finance.margin_leakage, f)
    charts.bar(leak, "component", "amount", key="fin_leak")
    table(leak, "margin leakage")

    left, right = st.columns(2)
    with left:
        st.subheader("Return liabilities")
        st.caption("Authorized returns not yet refunded, at the original net unit price.")
        table(data.load(finance.return_liabilities, f), "return liabilities")
    with right:
        st.subheader("Stock versus GL tie-out")
        st.caption("The stock ledger's on-hand value against the GL inventory balance.")
        table(data.load(finance.stock_gl_tieout, f), "stock gl tieout")

    st.subheader("GL by account")
    table(data.load(finance.gl_by_account, f), "gl by account")


render()
