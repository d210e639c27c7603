"""The global filter sidebar: date range, channel, node, category."""

from __future__ import annotations

from datetime import date

import streamlit as st

from app.components import data
from app.filters import Filters
from app.queries.common import filter_options


def filters_sidebar() -> Filters:
    """Render the filters (keys f_dates, f_channels, f_nodes, f_categories) and return them.
    Widgets live in the entry script, so they keep their values across pages."""
    try:
        options = data.run(filter_options)
    except Exception:  # an unreadable or missing file: the pages show what to run
        options = {"channels": [], "nodes": [], "categories": [], "dates": []}
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
    return Filters(
        start=start,
        end=end,
        channels=tuple(channels),
        nodes=tuple(nodes),
        categories=tuple(categories),
    )


def current_filters() -> Filters:
    """The filters main.py stored for this run."""
    stored = st.session_state.get("_filters")
    return stored if isinstance(stored, Filters) else Filters()
