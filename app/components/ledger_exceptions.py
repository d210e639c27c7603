"""Ledger exceptions in the app: the Overview's count and value, the Data quality
page's list, and the admin's revoke form (opsledger.events)."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import auth, data
from opsledger.app.components.tables import table
from opsledger.app.queries import ledger_exceptions as q


def exceptions_metric() -> None:
    """Open anomalies and their value (Overview)."""
    totals = data.load(q.exception_totals)
    if totals is None:
        return
    c = st.columns(2)
    c[0].metric("Open ledger exceptions", f"{totals['open']:,}", border=True,
                help="Negative stock, over-disposed returns, over-shipped lines, over-refunds "
                "(marts.fct_ledger_exceptions). Facts to fix at the source, not a reason to stop.")  # fmt: skip
    c[1].metric("Ledger exceptions value", f"{totals['value']:,.2f}", border=True)


def exceptions_section() -> None:
    """The list, and for admins a form that revokes loaded events (Data quality)."""
    st.subheader("Ledger exceptions")
    st.caption("Anomalies the ledger keeps and lists with their events (fct_ledger_exceptions).")
    table(data.load(q.exception_rows), "ledger exceptions")
    user = auth.current_user()
    if user is None or not user.can("admin"):
        return
    with (
        st.expander("Revoke loaded events (admin)"),
        st.form("revoke_events", clear_on_submit=True),
    ):
        ids = st.text_input("Event ids (comma or space separated)", key="revoke_ids")
        reason = st.text_input("Reason (kept in the audit log)", key="revoke_reason")
        if st.form_submit_button("Revoke"):
            from opsledger.events import revoke_events
            from opsledger.writeback import WritebackError

            try:
                done = revoke_events(
                    auth.home(), auth.token(), ids.replace(",", " ").split(), reason
                )
            except WritebackError as exc:
                st.warning(str(exc))
            else:
                st.success(
                    f"Revoked {len(done.revoked)} event(s); the next refresh rebuilds "
                    "what they touched."
                )
