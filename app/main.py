"""opsledger app entry: `streamlit run app/main.py` (or `opsledger serve`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from opsledger.app.components import auth, data
from opsledger.app.components.refresh_banner import last_failed_refresh, refresh_banner
from opsledger.app.warehouse import publication

# Not "pages/": Streamlit auto-discovers a pages/ folder beside the main script and, on
# a fresh server whose first request is a page URL, runs that page script directly,
# before st.navigation (and the sign-in guard below) ever ran.
PAGES_DIR = Path(__file__).resolve().parent / "views"
# the permission each page needs; pages not listed need `view`; None: open to all
PERMISSIONS: dict[str, str | None] = {"workbench": "sql", "submit": "submit", "signin": None}

st.set_page_config(page_title="opsledger", page_icon=":material/inventory_2:", layout="wide")

BY_NAME: dict[str, st.Page] = {}


def page(name: str, title: str, icon: str, default: bool = False):
    BY_NAME[name] = st.Page(PAGES_DIR / f"{name}.py", title=title, icon=icon, default=default)
    return BY_NAME[name]


pages = {
    "Dashboards": [
        page("overview", "Overview", ":material/dashboard:", default=True),
        page("inventory", "Inventory", ":material/inventory:"),
        page("returns", "Returns", ":material/assignment_return:"),
        page("fulfillment", "Fulfillment", ":material/local_shipping:"),
        page("finance", "Finance", ":material/payments:"),
        page("replenishment", "Replenishment", ":material/autorenew:"),
    ],
    "Governance": [
        page("quality", "Data quality", ":material/verified:"),
        page("workbench", "SQL workbench", ":material/terminal:"),
        page("docs", "Docs", ":material/menu_book:"),
    ],
    "Write-back": [
        page("submit", "Submit", ":material/edit_note:"),
        page("approvals", "Approvals", ":material/approval:"),
        page("audit", "Audit", ":material/history:"),
        page("signin", "Sign in", ":material/login:"),
    ],
}
# The single gate: signed out, the menu is hidden and every page URL shows the sign-in
# form; the guard stops the run before any page, sidebar caption or query runs.
signed_in = auth.current_user() is not None
# expanded: every page listed (collapsed, Streamlit hides all but 10 behind "View more")
nav = st.navigation(pages, position="sidebar" if signed_in else "hidden", expanded=True)
name = next((n for n, p in BY_NAME.items() if p is nav or p == nav), "overview")
user = auth.guard(nav.title, PERMISSIONS.get(name, "view"))
failed_refresh = last_failed_refresh() if user is not None else None

if user is not None:  # the publication caption is data too: signed-in users only
    with st.sidebar:
        st.caption(f"Signed in as **{user.username}** ({user.role})")
        st.divider()
        path, ver = data.current()
        if ver is None:
            st.caption(f"No published warehouse at `{path}`.")
        else:
            try:
                pub = data.run(publication)
            except Exception:  # the pages explain an unreadable file
                pub = None
            if pub is not None:
                gate = "passed" if pub.gate_success else "FAILED"
                if failed_refresh is not None:
                    gate += " (last refresh FAILED, see the banner)"
                st.caption(
                    f"Published {pub.published_at} · build `{pub.build_id}` · "
                    f"{(pub.events_total or 0):,} events · gate {gate}"
                )
            st.caption(f"Warehouse: `{path}` (read-only)")

refresh_banner(failed_refresh)
nav.run()
