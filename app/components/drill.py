"""Drill-through in the app: from a KPI value (card, chart point, table row) to the fact
rows behind it (numerator and denominator rows under the definition), and from a fact
row to its events or, for stock, the movements that make it; CSV downloads everywhere.

The queries are opsledger.metrics.drill's; this module only renders them. A drill is
shown right below the element it was opened from (its `source`)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import streamlit as st

from opsledger.app.components import data
from opsledger.app.components.tables import table
from opsledger.app.filters import Filters
from opsledger.app.kpis import format_value
from opsledger.metrics import drill
from opsledger.metrics.service import MetricsService, Slice
from opsledger.models.kpis import GRAINS, catalog

ROW_LIMIT = 500
STATE_KEY = "drill_open"
GroupKey = tuple[tuple[str, Any], ...]


def _slice(key: tuple[Any, ...]) -> Slice:
    start, end, filters = key
    return Slice(start=start, end=end, filters=dict(filters))


def _fact_rows(
    con: duckdb.DuckDBPyConnection, kpi: str, slice_key: tuple, group: GroupKey, part: str
) -> drill.Rows:
    return drill.fact_rows(
        con,
        kpi,
        _slice(slice_key),
        dict(group),
        part=part,
        limit=ROW_LIMIT,
        service=MetricsService(con),
    )


def _events(con: duckdb.DuckDBPyConnection, kpi: str, row: GroupKey) -> drill.Rows:
    return drill.events(con, catalog().get(kpi).fact, dict(row), limit=ROW_LIMIT)


def _movements(con: duckdb.DuckDBPyConnection, kpi: str, row: GroupKey) -> drill.Rows:
    return drill.movements(con, catalog().get(kpi).fact, dict(row), limit=ROW_LIMIT)


def open_drill(source: str, kpi: str, group: dict[str, Any] | None = None) -> None:
    st.session_state[STATE_KEY] = {"source": source, "kpi": kpi, "group": dict(group or {})}


def close_drill() -> None:
    st.session_state.pop(STATE_KEY, None)


def slot(source: str, f: Filters) -> None:
    """Render the open drill here when it was opened from `source`."""
    state = st.session_state.get(STATE_KEY)
    if state and state.get("source") == source:
        panel(source, state["kpi"], f, state.get("group") or {})


def point_picker(
    source: str,
    kpi: str,
    f: Filters,
    frame: pl.DataFrame | None,
    by: tuple[str, ...],
    label: str = "Drill into",
) -> None:
    """A chart's or table's points (its group-by values) to drill into; the panel opens
    below it."""
    if frame is None or isinstance(frame, str) or frame.is_empty():
        return
    cols = [b for b in by if b in frame.columns]
    points = [tuple(r) for r in frame.select(cols).iter_rows()]
    choice = st.selectbox(
        label,
        [None, *points],
        format_func=lambda p: "—" if p is None else " · ".join(_show(v) for v in p),
        key=f"drill_pick_{source}",
        help="Opens the fact rows behind this value, and from a row its events.",
    )
    if choice is not None:
        panel(source, kpi, f, dict(zip(cols, choice, strict=True)))


def _show(v: Any) -> str:
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def _describe(f: Filters, group: dict[str, Any]) -> str:
    parts = []
    if f.start or f.end:
        parts.append(f"{_show(f.start) if f.start else '…'} to {_show(f.end) if f.end else '…'}")
    parts += [f"{d} in ({', '.join(v)})" for d, v in f.by_dimension().items()]
    parts += [f"{d} = {_show(v)}" for d, v in group.items()]
    return "; ".join(parts) or "everything"


def panel(source: str, kpi_name: str, f: Filters, group: dict[str, Any]) -> None:
    kpi = catalog().get(kpi_name)
    from opsledger.app.components import metrics

    currency = data.currency_code()
    with st.container(border=True, key=f"drill_panel_{source}"):
        head, close = st.columns([5, 1])
        head.markdown(f"#### Drill-through: {kpi.name}")
        if STATE_KEY in st.session_state and st.session_state[STATE_KEY].get("source") == source:
            close.button("Close", key=f"drill_close_{source}", on_click=close_drill)
        st.caption(f"**Definition**: {kpi.definition}")
        st.caption(
            f"Fact `{kpi.fact.relation}` ({kpi.fact.grain}), dated by `{kpi.time}` ({kpi.kind});"
            f" slice: {_describe(f, group)}"
        )
        by = tuple(group)
        values = metrics.evaluate(kpi_name, f, by)
        if isinstance(values, str):
            st.info(metrics.not_defined(values))
            return
        want = tuple(group[b] for b in by)
        match = [
            v for v in values if tuple(_show(x) for x in v.group) == tuple(_show(x) for x in want)
        ]
        v = match[0] if match else None
        if v is not None:
            extra = []
            if v.numerator is not None and kpi.measure.type == "ratio":
                extra.append(f"numerator {v.numerator:,.2f} / denominator {v.denominator:,.2f}")
            extra.append(f"{v.fact_rows:,} fact rows")
            st.markdown(
                f"Value **{format_value(v.value, kpi.unit, currency)}** ({'; '.join(extra)})"
            )
        parts = drill.parts(kpi)
        part = parts[0]
        if len(parts) > 1:
            part = st.radio(
                "Rows",
                parts,
                format_func=lambda p: drill.part_label(kpi, p),
                horizontal=True,
                key=f"drill_part_{source}",
            )
        else:
            st.caption(drill.part_label(kpi, part))
        slice_key = f.to_slice().key()
        group_key: GroupKey = tuple(sorted(group.items()))
        rows = data.load(_fact_rows, None, kpi_name, slice_key, group_key, part)
        if rows is None:
            return
        shown = f"{rows.frame.height:,} of {rows.total:,} rows" + (
            f" (the first {ROW_LIMIT:,}; download the CSV or narrow the slice)"
            if rows.truncated
            else ""
        )
        table(
            rows.frame,
            f"{kpi_name} {part} rows",
            caption=f"Fact rows: {shown}",
            currency=currency,
            key=f"drill_rows_{source}",
        )
        _row_events(source, kpi_name, rows.frame)


def _row_label(frame: pl.DataFrame, key_cols: list[str], i: int) -> str:
    row = frame.row(i, named=True)
    return " · ".join(f"{c}={_show(row.get(c))}" for c in key_cols)


def _row_events(source: str, kpi_name: str, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    fact = catalog().get(kpi_name).fact
    key_cols = [c for c in fact.key if c in frame.columns]
    n = min(frame.height, 200)
    pick = st.selectbox(
        "Events of fact row",
        [None, *range(n)],
        format_func=lambda i: "—" if i is None else _row_label(frame, key_cols, i),
        key=f"drill_row_{source}",
    )
    if pick is None:
        return
    row = frame.row(pick, named=True)
    key: GroupKey = tuple(sorted(drill.fact_row_key(fact, row).items()))
    if fact.movements:
        moves = data.load(_movements, None, kpi_name, key)
        if moves is not None:
            table(
                moves.frame,
                f"{kpi_name} movements",
                caption=f"Stock movements into and out of this SKU x node x state up to the"
                f" row's day ({moves.total:,}); the last balance is the row's quantity.",
                key=f"drill_moves_{source}",
            )
    ev = data.load(_events, None, kpi_name, key)
    if ev is not None:
        table(
            ev.frame,
            f"{kpi_name} events",
            caption=f"Raw events ({ev.total:,}): source file, line and ingest batch.",
            key=f"drill_events_{source}",
        )


def is_period(by: tuple[str, ...]) -> bool:
    return any(b in GRAINS for b in by)
