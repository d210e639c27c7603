"""The global filter sidebar: date range, channel, node, category, product class, supplier.

Filters persist across pages (st.session_state) and live in the URL's query parameters
(`?from=2025-03-01&to=2025-03-31&channel=web&node=DC1`), so a link reproduces the view."""

from __future__ import annotations

from datetime import date

import streamlit as st

from opsledger.app.components import data
from opsledger.app.filters import Filters
from opsledger.app.queries.common import filter_options

# widget key, URL parameter, label, filter_options key
MULTI = (
    ("f_channels", "channel", "Channel", "channels"),
    ("f_nodes", "node", "Node", "nodes"),
    ("f_categories", "category", "Category", "categories"),
    ("f_classes", "product_class", "Product class", "product_classes"),
    ("f_suppliers", "supplier", "Supplier", "suppliers"),
)
FILTER_KEYS = ("f_dates", *(m[0] for m in MULTI))


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


def _parse_date(text: str | None, lo: date, hi: date) -> date | None:
    try:
        day = date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None
    return min(max(day, lo), hi) if day else None


def _from_url(options: dict[str, list]) -> None:
    """On a fresh session (a link opened), take the filters from the query parameters;
    values the warehouse does not know are dropped."""
    if st.session_state.get("_filters_from_url"):
        return
    st.session_state["_filters_from_url"] = True
    params = st.query_params
    for key, param, _, opt in MULTI:
        wanted = [v for v in params.get_all(param) if v in options.get(opt, [])]
        if wanted and key not in st.session_state:
            st.session_state[key] = wanted
    if options.get("dates") and "f_dates" not in st.session_state:
        lo, hi = options["dates"]
        start = _parse_date(params.get("from"), lo, hi)
        end = _parse_date(params.get("to"), lo, hi)
        if start or end:
            st.session_state["f_dates"] = (start or lo, end or hi)


def _to_url(f: Filters, options: dict[str, list]) -> None:
    want: dict[str, str | list[str]] = {}
    lo, hi = options["dates"] if options.get("dates") else (None, None)
    if f.start and f.start != lo:
        want["from"] = f.start.isoformat()
    if f.end and f.end != hi:
        want["to"] = f.end.isoformat()
    for (_, param, _, _), values in zip(
        MULTI, (f.channels, f.nodes, f.categories, f.product_classes, f.suppliers), strict=True
    ):
        if values:
            want[param] = list(values)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    normal = {k: v if isinstance(v, list) else [v] for k, v in want.items()}
    if current != normal:
        st.query_params.from_dict(want)


def filters_sidebar() -> Filters:
    """Render the filters and return them."""
    try:
        options = data.run(filter_options)
    except Exception:  # an unreadable or missing file: the pages show what to run
        options = {m[3]: [] for m in MULTI} | {"dates": []}
    _restore(FILTER_KEYS)
    _from_url(options)
    with st.sidebar:
        st.header("Filters")
        start: date | None = None
        end: date | None = None
        if options["dates"]:
            lo, hi = options["dates"]
            # the default only when neither the session nor the URL set the range
            default = {} if "f_dates" in st.session_state else {"value": (lo, hi)}
            picked = st.date_input(
                "Date range",
                **default,
                min_value=lo,
                max_value=hi,
                key="f_dates",
                help="Flow KPIs count the facts dated in the range; snapshot KPIs "
                "(stock, backlog, open exceptions) are taken at the end of the range.",
            )
            if isinstance(picked, tuple | list) and len(picked) == 2:
                start, end = picked[0], picked[1]
            elif isinstance(picked, tuple | list) and len(picked) == 1:
                start = picked[0]
            elif isinstance(picked, date):
                start = picked
        chosen = [
            tuple(st.multiselect(label, options.get(opt, []), key=key))
            for key, _, label, opt in MULTI
        ]
    _keep(FILTER_KEYS)
    f = Filters(start, end, *chosen)
    _to_url(f, options)
    return f


def current_filters() -> Filters:
    """Render the global filters in the sidebar (each page calls this; their values
    persist across pages and in the URL) and return them."""
    f = filters_sidebar()
    st.session_state["_filters"] = f
    return f
