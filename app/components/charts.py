"""Charts with consistent defaults (axis formats follow the KPI's unit), as Vega-Lite
specs: Streamlit's own chart library, which the browser draws several times faster than
Plotly's (a page of charts was most of a page's render time; docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from opsledger.app.kpis import currency_prefix

TEMPORAL = (pl.Date, pl.Datetime)
HEIGHT = 300


def _label(fmt: str, prefix: str = "", suffix: str = "") -> dict[str, str]:
    """An axis whose labels are d3-formatted, with an optional prefix and suffix."""
    expr = f"format(datum.value, '{fmt}')"
    if prefix:
        expr = f"'{prefix}' + {expr}"
    if suffix:
        expr = f"{expr} + '{suffix}'"
    return {"labelExpr": expr, "format": fmt}


def axis_format(unit: str, currency: str | None = None) -> dict[str, str]:
    """Vega-Lite y-axis labels for a unit (d3 format, prefix or suffix)."""
    if unit == "ratio":
        return _label(".1%")
    if unit == "currency":
        return _label(",.0f", prefix=currency_prefix(currency).replace("'", ""))
    if unit == "days":
        return _label(",.1f", suffix=" d")
    if unit == "minutes":
        return _label(",.0f", suffix=" min")
    return _label(",.0f")


def _x(frame: pl.DataFrame, x: str) -> dict[str, Any]:
    if frame.schema[x] in TEMPORAL:  # days, weeks, months: a time axis, bars too
        return {"field": x, "type": "temporal", "timeUnit": "yearmonthdate", "title": x}
    # sort null: the frame's own order (age buckets, funnel steps), not alphabetical
    return {"field": x, "type": "nominal", "sort": None, "title": x, "axis": {"labelAngle": 0}}


def _spec(
    kind: str,
    frame: pl.DataFrame,
    x: str,
    y: str,
    title: str | None,
    color: str | None,
    target: float | None,
    y_format: dict[str, str] | None,
) -> dict[str, Any]:
    encoding: dict[str, Any] = {
        "x": _x(frame, x),
        "y": {
            "field": y,
            "type": "quantitative",
            "title": None if title else y,  # the chart's title names the value
            "axis": y_format or {},
        },
        "tooltip": [{"field": c} for c in frame.columns],
    }
    if color:
        encoding["color"] = {"field": color, "type": "nominal", "sort": None}
    mark: dict[str, Any] = {"type": "bar"} if kind == "bar" else {"type": "line", "point": True}
    layers: list[dict[str, Any]] = [{"mark": mark, "encoding": encoding}]
    if target is not None:
        layers.append(
            {
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "gray"},
                "encoding": {"y": {"datum": target}},
            }
        )
    spec: dict[str, Any] = {"height": HEIGHT, "layer": layers}
    if title:
        spec["title"] = title
    return spec


def _show(frame: pl.DataFrame, spec: dict[str, Any], key: str) -> None:
    st.vega_lite_chart(frame, spec, key=key, use_container_width=True)


def _usable(frame: pl.DataFrame | None, *columns: str) -> bool:
    return frame is not None and not frame.is_empty() and all(c in frame.columns for c in columns)


def bar(
    frame: pl.DataFrame | None,
    x: str,
    y: str,
    *,
    key: str,
    title: str | None = None,
    color: str | None = None,
    y_format: dict[str, str] | None = None,
) -> None:
    if not _usable(frame, x, y):
        return
    _show(frame, _spec("bar", frame, x, y, title, color, None, y_format), key)


def line(
    frame: pl.DataFrame | None,
    x: str,
    y: str,
    *,
    key: str,
    title: str | None = None,
    color: str | None = None,
    target: float | None = None,
    y_format: dict[str, str] | None = None,
) -> None:
    if not _usable(frame, x, y):
        return
    _show(frame, _spec("line", frame, x, y, title, color, target, y_format), key)


def funnel(
    frame: pl.DataFrame | None, x: str, y: str, *, key: str, title: str | None = None
) -> None:
    """Steps top to bottom in the frame's order, bar length the count."""
    if not _usable(frame, x, y):
        return
    spec = {
        "height": max(HEIGHT // 2, 40 * len(frame)),
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": y, "type": "nominal", "sort": None, "title": None},
            "x": {"field": x, "type": "quantitative", "title": x},
            "tooltip": [{"field": y}, {"field": x}],
        },
    }
    if title:
        spec["title"] = title
    _show(frame, spec, key)
