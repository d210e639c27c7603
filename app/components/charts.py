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


def _show(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


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
    fig = px.bar(frame.to_pandas(), x=x, y=y, color=color, **kwargs)
    fig.update_xaxes(type="category")
    _show(_layout(fig, title, y_format), key)


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
    fig = px.line(frame.to_pandas(), x=x, y=y, color=color, markers=True, **kwargs)
    if target is not None:
        fig.add_hline(y=target, line_dash="dot", annotation_text="target")
    _show(_layout(fig, title, y_format), key)


def funnel(
    frame: pl.DataFrame | None, x: str, y: str, *, key: str, title: str | None = None
) -> None:
    if frame is None or frame.is_empty():
        return
    fig = go.Figure(go.Funnel(y=frame[y].to_list(), x=frame[x].to_list()))
    _show(_layout(fig, title, None), key)
