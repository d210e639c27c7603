"""opsledger app entry: `streamlit run app/main.py` (or `opsledger serve`)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # streamlit puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.components import data  # noqa: E402
from app.components.refresh_banner import last_failed_refresh, refresh_banner  # noqa: E402
from app.warehouse import publication  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="opsledger", page_icon=":material/inventory_2:", layout="wide")

pages = {
    "Dashboards": [
        st.Page(
            PAGES_DIR / "overview.py", title="Overview", icon=":material/dashboard:", default=True
        ),
        st.Page(PAGES_DIR / "inventory.py", title="Inventory", icon=":material/inventory:"),
        st.Page(PAGES_DIR / "returns.py", title="Returns", icon=":material/assignment_return:"),
        st.Page(
            PAGES_DIR / "fulfillment.py", title="Fulfillment", icon=":material/local_shipping:"
        ),
        st.Page(PAGES_DIR / "finance.py", title="Finance", icon=":material/payments:"),
        st.Page(PAGES_DIR / "replenishment.py", title="Replenishment", icon=":material/autorenew:"),
    ],
    "Governance": [
        st.Page(PAGES_DIR / "quality.py", title="Data quality", icon=":material/verified:"),
        st.Page(PAGES_DIR / "workbench.py", title="SQL workbench", icon=":material/terminal:"),
    ],
    "Write-back": [
        st.Page(PAGES_DIR / "submit.py", title="Submit", icon=":material/edit_note:"),
        st.Page(PAGES_DIR / "approvals.py", title="Approvals", icon=":material/approval:"),
        st.Page(PAGES_DIR / "audit.py", title="Audit", icon=":material/history:"),
        st.Page(PAGES_DIR / "signin.py", title="Sign in", icon=":material/login:"),
    ],
}
nav = st.navigation(pages)
failed_refresh = last_failed_refresh()

with st.sidebar:
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
