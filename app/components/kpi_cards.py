"""KPI cards: value against target, with the governed definition on every card."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app.kpis import Kpi, format_value


def _target_text(kpi: Kpi) -> str:
    if kpi.target is None:
        return "no target"
    sign = {"higher": ">=", "lower": "<="}.get(kpi.direction, "")
    return f"target {sign} {format_value(kpi.target, kpi.unit)}"


def kpi_cards(values: pl.DataFrame | None, defs: dict[str, Kpi], per_row: int = 4) -> None:
    """One st.metric per KPI row of `values` (kpi, value, status, note)."""
    if values is None or values.is_empty():
        return
    rows = values.to_dicts()
    for start in range(0, len(rows), per_row):
        cols = st.columns(per_row)
        for col, row in zip(cols, rows[start : start + per_row], strict=False):
            kpi = defs.get(row["kpi"])
            if kpi is None:
                continue
            with col:
                kpi_card(kpi, row["value"], row.get("status"), row.get("note"))


def kpi_card(
    kpi: Kpi, value: float | None, status: str | None = None, note: str | None = None
) -> None:
    delta = None
    if status == "ok":
        delta = "on target"
    elif status == "off":
        delta = "off target"
    st.metric(
        kpi.name,
        kpi.fmt(value),
        delta=delta,
        delta_color="normal" if status == "ok" else ("inverse" if status == "off" else "off"),
        delta_arrow="off",
        help=f"{kpi.definition} ({_target_text(kpi)})",
        border=True,
    )
    st.caption(f"{kpi.definition} · {_target_text(kpi)}" + (f" · {note}" if note else ""))


def definition(kpi: Kpi) -> None:
    """The governed definition beside a chart or table that shows a KPI."""
    st.caption(f"**{kpi.name}**: {kpi.definition} ({_target_text(kpi)})")
