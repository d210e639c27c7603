"""The global filter sidebar: date range, channel, node, category."""

from __future__ import annotations

from datetime import date

import streamlit as st

from app.components import data
from app.filters import Filters
from app.queries.common import filter_options

FILTER_KEYS = ("f_dates", "f_channels", "f_nodes", "f_categories")


def _keep(keys: tuple[str, ...]) -> None:
    """Copy widget values to plain session keys: Streamlit drops the state of a widget
    that a run did not render, so filters survive page switches and reruns."""
    for key in keys:
        if key in st.session_state:
            st.session_state[f"_keep_{key}"] = st.session_state[key]


def _restore(keys: tuple[str, ...]) -> None:
    for key in keys:
        kept = st.session_state.get(f"_keep_{key}")
        if key not in st.session_state and kept is not None:
            st.session_state[key] = kept


def filters_sidebar() -> Filters:
    """Render the filters (keys f_dates, f_channels, f_nodes, f_categories) and return them."""
    try:
        options = data.run(filter_options)
    except Exception:  # an unreadable or missing file: the pages show what to run
        options = {"channels": [], "nodes": [], "categories": [], "dates": []}
    _restore(FILTER_KEYS)
    with st.sidebar:
        st.header("Filters")
        start: date | None = None
        end: date | None = None
        if options["dates"]:
            lo, hi = options["dates"]
            picked = st.date_input(
                "Date range",
                value=(lo, hi),
                min_value=lo,
                max_value=hi,
                key="f_dates",
                help="Applies to dated facts (orders, returns, movements, daily KPIs). "
                "Snapshots (on hand, aging) are as of the publication.",
            )
            if isinstance(picked, tuple | list) and len(picked) == 2:
                start, end = picked[0], picked[1]
            elif isinstance(picked, tuple | list) and len(picked) == 1:
                start = picked[0]
            elif isinstance(picked, date):
                start = picked
        channels = st.multiselect("Channel", options["channels"], key="f_channels")
        nodes = st.multiselect("Node", options["nodes"], key="f_nodes")
        categories = st.multiselect("Category", options["categories"], key="f_categories")
    _keep(FILTER_KEYS)
    return Filters(
        start=start,
        end=end,
        channels=tuple(channels),
        nodes=tuple(nodes),
        categories=tuple(categories),
    )


def current_filters() -> Filters:
    """Render the global filters in the sidebar (each page calls this; their values
    persist across pages) and return them."""
    f = filters_sidebar()
    st.session_state["_filters"] = f
    return f
