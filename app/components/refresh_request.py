"""After a submission is ready to apply, ask for the debounced refresh (when enabled)."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components.auth import home
from opsledger.autorefresh import request_refresh


def ask_for_refresh() -> None:
    if request_refresh(home()):
        st.caption(
            "A refresh was requested: it starts a few seconds after the last submission, "
            "and **Approvals** shows when the submission is applied."
        )
    else:
        st.caption("Auto-refresh is off: the next `opsledger refresh` applies it.")
