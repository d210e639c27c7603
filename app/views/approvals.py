"""Approval queue (finance approver / admin, never one's own) and submission status."""

from __future__ import annotations

import polars as pl
import streamlit as st

from opsledger.app.components.auth import home, require
from opsledger.app.components.refresh_request import ask_for_refresh
from opsledger.app.components.tables import table
from opsledger.refresh import run_refresh
from opsledger.writeback import WritebackError, apply_pending, decide, submission_status
from opsledger.writeback.submissions import related_submissions, window_hours
from opsledger.writeback.users import PermissionDenied, authorize, same_user

STATUS_HELP = (
    "pending_approval: waits for a finance approver · approved: waits for export · "
    "exported: a landing file waits for the next refresh · applied: its events are in the "
    "published warehouse (applied_at: when that publication went live) · rejected"
)


def queue(user) -> None:
    st.subheader("Waiting for approval")
    waiting = [s for s in submission_status(home()) if s["status"] == "pending_approval"]
    if not waiting:
        st.caption("Nothing waits for approval.")
    for s in waiting:
        sid = s["submission_id"]
        own = same_user(s["submitted_by"], user.username)
        with st.container(border=True):
            st.markdown(
                f"**{s['what']}** · value **{s['value']:,.2f}** · by {s['submitted_by']} "
                f"({s['role']}) at {s['submitted_at']}"
            )
            if s["why"]:
                st.caption(f"Why: {s['why']}")
            related = related_submissions(home(), sid)
            if related:
                total = s["value"] + sum(r["value"] or 0 for r in related)
                st.caption(
                    f"Related: {len(related)} other submission(s) of {s['submitted_by']} on the "
                    f"same key within {window_hours():g} h, together {total:,.2f}: "
                    + ", ".join(f"`{r['submission_id']}` {r['value']:,.2f}" for r in related)
                )
            if own:
                st.caption("Your own submission: another approver must decide.")
            comment = st.text_input("Comment", key=f"wb_comment_{sid}", disabled=own)
            left, right = st.columns(2)
            verdict = None
            if left.button("Approve", key=f"wb_approve_{sid}", disabled=own):
                verdict = True
            if right.button("Reject", key=f"wb_reject_{sid}", disabled=own):
                verdict = False
            if verdict is not None:
                try:
                    entry = decide(home(), user.username, sid, verdict, comment)
                except WritebackError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"{sid} {entry}.")
                    if entry == "approved":
                        ask_for_refresh()


def render() -> None:
    st.title("Approvals")
    user = require("view", "see submissions")
    if user is None:
        return
    if user.can("approve"):
        queue(user)
    else:
        st.caption(f"Your role {user.role} cannot approve; the queue is for finance approvers.")
    st.subheader("Submissions")
    st.caption(STATUS_HELP)
    rows = submission_status(home())
    cols = ["submission_id", "status", "kind", "what", "value", "submitted_by", "submitted_at",
            "decided_by", "decided_at", "exported_at", "applied_at"]  # fmt: skip
    frame = pl.DataFrame(
        [{c: r[c] for c in cols} for r in rows],
        schema=dict.fromkeys(cols, pl.Utf8) | {"value": pl.Float64},
    )
    table(frame, "writeback submissions")
    if user.can("admin") and st.button("Export and apply now (refresh)", key="wb_apply"):
        try:
            authorize(home(), user.username, "admin", "export and apply submissions")
        except PermissionDenied as exc:
            st.error(str(exc))
            return
        with st.spinner("export, then ingest, build, audit and publish"):
            result = apply_pending(home(), run_refresh, min_interval_seconds=60)
        st.info(f"{result.status}: {result.message} (exported {len(result.exported)})")


render()
