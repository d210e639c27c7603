"""Plotly charts with consistent defaults (axis formats follow the KPI's unit)."""

from __future__ import annotations

from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from opsledger.app.kpis import currency_prefix


def axis_format(unit: str, currency: str | None = None) -> dict[str, str]:
    """Plotly y-axis tick format and prefix/suffix for a unit."""
    if unit == "ratio":
        return {"tickformat": ".1%"}
    if unit == "currency":
        return {"tickformat": ",.0f", "tickprefix": currency_prefix(currency)}
    if unit == "days":
        return {"tickformat": ",.1f", "ticksuffix": " d"}
    if unit == "minutes":
        return {"tickformat": ",.0f", "ticksuffix": " min"}
    return {"tickformat": ",.0f"}


def _layout(fig: go.Figure, title: str | None, y_format: dict[str, str] | None) -> go.Figure:
    fig.update_layout(
        title=title, margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10}, height=320
    )
    if y_format:
        fig.update_yaxes(**y_format)
    return fig


def _show(fig: go.Figure | dict, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def _frame_bytes(frame: pl.DataFrame) -> bytes:
    return frame.serialize(format="binary")


# Building a figure with plotly express costs ~0.1-0.2 s of Python per chart (templates,
# validators), on every rerun: the figure of a frame is built once and kept as a dict.
@st.cache_data(show_spinner=False, max_entries=512, hash_funcs={pl.DataFrame: _frame_bytes})
def _figure(
    kind: str,
    frame: pl.DataFrame,
    x: str,
    y: str,
    title: str | None,
    color: str | None,
    target: float | None,
    y_format: dict[str, str] | None,
    kwargs: dict[str, Any],
) -> dict:
    if kind == "bar":
        fig = px.bar(frame.to_pandas(), x=x, y=y, color=color, **kwargs)
        fig.update_xaxes(type="category")
    else:
        fig = px.line(frame.to_pandas(), x=x, y=y, color=color, markers=True, **kwargs)
        if target is not None:
            fig.add_hline(y=target, line_dash="dot", annotation_text="target")
    return _layout(fig, title, y_format).to_plotly_json()


def bar(
    frame: pl.DataFrame | None,
    x: str,
    y: str,
    *,
    key: str,
    title: str | None = None,
    color: str | None = None,
    y_format: dict[str, str] | None = None,
    **kwargs: Any,
) -> None:
    if frame is None or frame.is_empty() or x not in frame.columns or y not in frame.columns:
        return
    _show(_figure("bar", frame, x, y, title, color, None, y_format, kwargs), key)


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
    **kwargs: Any,
) -> None:
    if frame is None or frame.is_empty() or x not in frame.columns or y not in frame.columns:
        return
    _show(_figure("line", frame, x, y, title, color, target, y_format, kwargs), key)


def funnel(
    frame: pl.DataFrame | None, x: str, y: str, *, key: str, title: str | None = None
) -> None:
    if frame is None or frame.is_empty():
        return
    fig = go.Figure(go.Funnel(y=frame[y].to_list(), x=frame[x].to_list()))
    _show(_layout(fig, title, None), key)
