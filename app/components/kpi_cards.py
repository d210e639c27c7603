"""KPI cards: the metrics service's value against target, the governed definition in
every card's tooltip, and one picker below the cards that drills into the fact rows
behind any of them.

A card is one element (a metric) on purpose: what a warm visit waits for is the
browser drawing the page, and a caption and a button per card tripled the elements
of a page of 20 cards (docs/benchmarks.md, app pages in a real browser)."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import data, metrics
from opsledger.app.components import drill as drill_ui
from opsledger.app.filters import Filters
from opsledger.app.kpis import COVERAGE, card_value, coverage_kpis, coverage_note, target_text
from opsledger.metrics.service import KpiValue
from opsledger.models.kpis import Kpi, catalog


def kpi_cards(kpis: tuple[str, ...], f: Filters, source: str, per_row: int = 4) -> None:
    """One card per KPI over the filters' slice; the drill opens below the cards."""
    defs = catalog().kpis
    shown = [defs[k] for k in kpis if k in defs]
    currency = data.currency_code()
    names = tuple(k.kpi for k in shown)
    try:
        values = metrics.values(names + coverage_kpis(names), f)
    except Exception as exc:  # a missing or unreadable warehouse: the pages explain
        st.warning(f"The KPIs could not be computed: {exc}")
        return
    for start in range(0, len(shown), per_row):
        cols = st.columns(per_row)
        for col, kpi in zip(cols, shown[start : start + per_row], strict=False):
            with col:
                kpi_card(kpi, values[kpi.kpi], currency, _coverage(kpi, values))
    key = f"drill_card_{source}"
    st.selectbox(
        "Drill into a card",
        [None, *names],
        format_func=lambda k: "—" if k is None else defs[k].name,
        key=key,
        on_change=_card_picked,
        args=(source, key),
        help="Opens the fact rows behind the card's value, and from a row its events.",
    )
    drill_ui.slot(source, f)


def _card_picked(source: str, key: str) -> None:
    """Open the drill of the picked card, and clear the picker (so the same card can
    be picked again after its drill was closed)."""
    kpi = st.session_state.get(key)
    if kpi is not None:
        drill_ui.open_drill(source, kpi, {})
        st.session_state[key] = None


def _coverage(kpi: Kpi, values: dict[str, KpiValue | str]) -> str | None:
    """The card's cost coverage note (money KPIs computed over known costs)."""
    c = COVERAGE.get(kpi.kpi)
    if c is None:
        return None

    def share(name: str | None) -> float | None:
        v = values.get(name) if name else None
        return v.value if isinstance(v, KpiValue) else None

    if not isinstance(values.get(c.coverage), KpiValue):
        return None  # the slice does not apply to the coverage either
    return coverage_note(kpi.kpi, share(c.coverage), share(c.assumed))


def kpi_card(
    kpi: Kpi,
    v: KpiValue | str,
    currency: str | None = None,
    coverage: str | None = None,
) -> None:
    if isinstance(v, str):  # the slice does not apply: say so, never a silent total
        st.metric(kpi.name, "—", help=kpi.definition, border=True)
        st.caption(v)
        return
    status = kpi.status(v.value)
    delta = {"ok": "on target", "off": "off target"}.get(status or "")
    st.metric(
        kpi.name,
        card_value(kpi, v.value, currency),
        delta=delta,
        delta_color="normal" if status == "ok" else ("inverse" if status == "off" else "off"),
        delta_arrow="off",
        help=f"{kpi.definition} ({target_text(kpi, currency)}; {v.fact_rows:,} fact rows)",
        border=True,
    )
    if coverage:  # beside the value: a money figure over known costs says how much
        st.caption(f"**{coverage[0].upper()}{coverage[1:]}**")


def definition(kpi: Kpi) -> None:
    """The governed definition beside a chart or table that shows a KPI."""
    st.caption(f"**{kpi.name}**: {kpi.definition} ({target_text(kpi, data.currency_code())})")
