"""A governed KPI grouped by a dimension or a period, from the metrics service: a chart,
a table, and a drill into any of their points."""

from __future__ import annotations

import polars as pl
import streamlit as st

from opsledger.app.components import charts, data, metrics
from opsledger.app.components import drill as drill_ui
from opsledger.app.components.kpi_cards import definition
from opsledger.app.components.tables import table
from opsledger.app.filters import Filters
from opsledger.models.kpis import GRAINS, catalog


def kpi_frame(kpi: str, f: Filters, by: tuple[str, ...]) -> pl.DataFrame | str | None:
    try:
        return metrics.frame(kpi, f, by)
    except Exception as exc:  # a missing or unreadable warehouse: the pages explain
        st.warning(f"{catalog().get(kpi).name} could not be computed: {exc}")
        return None


def breakdown(
    kpi_name: str,
    f: Filters,
    by: tuple[str, ...],
    *,
    source: str,
    chart: str = "bar",
    title: str | None = None,
    color: str | None = None,
    show_definition: bool = True,
    show_table: bool = True,
) -> pl.DataFrame | None:
    """Chart + table of the KPI grouped by `by`; each with a "drill into" picker."""
    kpi = catalog().get(kpi_name)
    if show_definition:
        definition(kpi)
    frame = kpi_frame(kpi_name, f, by)
    if frame is None:
        return None
    if isinstance(frame, str):
        st.info(f"{kpi.name}: {frame}.")
        return None
    x = by[0]
    label = title or f"{kpi.name} by {' and '.join(by)}"
    fmt = charts.axis_format(kpi.unit, data.currency_code())
    if chart == "line" or x in GRAINS:
        charts.line(
            frame,
            x,
            "value",
            key=f"{source}_chart",
            title=label,
            color=color,
            target=kpi.target,
            y_format=fmt,
        )
    else:
        charts.bar(frame, x, "value", key=f"{source}_chart", title=label, color=color, y_format=fmt)
    drill_ui.point_picker(
        f"{source}_chart", kpi_name, f, frame, by, label="Drill into a point of the chart"
    )
    if show_table:
        shown = frame.rename({"value": kpi.kpi})
        table(
            shown,
            f"{kpi_name} by {' '.join(by)}",
            units={kpi.kpi: kpi.unit, "numerator": "float", "denominator": "float"},
            key=f"{source}_table",
        )
        drill_ui.point_picker(
            f"{source}_table", kpi_name, f, frame, by, label="Drill into a row of the table"
        )
    return frame
