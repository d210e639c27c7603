"""Write-back forms: disposition decisions for inspected returns, stock adjustments.

Submissions go to the durable inbox (never into the warehouse); the next refresh
turns them into events. Each form carries a submission id (double clicks create one
submission) and the publication it was filled from (stale forms are refused)."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components.auth import home, require
from opsledger.app.components.refresh_request import ask_for_refresh
from opsledger.models import load_domain
from opsledger.writeback import (
    StaleForm,
    Submission,
    WritebackError,
    open_form,
    submission_status,
    submit_adjustment,
    submit_disposition,
)
from opsledger.writeback import warehouse as wh
from opsledger.writeback.users import same_user


def _session(key: str):
    if key not in st.session_state:
        st.session_state[key] = open_form(home())
    return st.session_state[key]


def _outcome(sub: Submission, key: str) -> None:
    if sub.duplicate:
        st.info(f"Already submitted as `{sub.submission_id}`: nothing new was recorded.")
    elif sub.needs_approval:
        st.success(
            f"Submitted `{sub.submission_id}` (value {sub.value:,.2f}): above the threshold, "
            "it waits for a finance approver (page **Approvals**)."
        )
    else:
        st.success(
            f"Submitted `{sub.submission_id}` (value {sub.value:,.2f}): below the threshold, "
            "the next refresh applies it."
        )
        ask_for_refresh()
    # the form keeps its submission id: a second click (or a resubmission) is a no-op
    st.button(
        "Start a new submission",
        key=f"{key}_new",
        on_click=lambda: st.session_state.pop(key, None),
    )


def _failure(exc: WritebackError, key: str) -> None:
    st.error(str(exc))
    if isinstance(exc, StaleForm):
        st.session_state.pop(key, None)
        st.button("Reload the form", key=f"{key}_reload")


def disposition_form(user) -> None:
    key = "wb_disp_form"
    session = _session(key)
    domain = load_domain()
    with wh.read(home()) as con:
        lines = wh.open_return_lines(con)
    if not lines:
        st.info("No inspected return lines wait for a disposition.")
        return
    labels = {
        r["return_line_id"]: (
            f"{r['return_line_id']} · {r['sku']} ({r['product_class']}) · {r['node_id']} · "
            f"{int(r['quantity']) - int(r['qty_disposed'])} open units · grade {r['condition_grade']}"
        )
        for r in lines
    }
    chosen = st.selectbox(
        "Return line (inspected, not disposed)",
        list(labels),
        format_func=labels.get,
        key="wb_disp_line",
    )
    line = next(r for r in lines if r["return_line_id"] == chosen)
    pclass = line["product_class"] or "unknown"
    allowed = domain.allowed_dispositions(pclass if pclass in domain.product_classes else "unknown")
    open_units = int(line["quantity"]) - int(line["qty_disposed"])
    st.caption(
        f"{pclass}: {domain.raw['product_classes'].get(pclass, {}).get('description', '')} "
        f"Allowed: {', '.join(allowed)}. Split the {open_units} open units across dispositions."
    )
    grades = list(domain.enum_values("condition_grades"))
    with st.form(f"wb_disp_{chosen}"):
        split = {
            d: st.number_input(
                d, min_value=0, max_value=open_units, value=0, step=1, key=f"wb_disp_q_{d}"
            )
            for d in allowed
        }
        grade = st.selectbox(
            "Condition grade",
            grades,
            index=grades.index(line["condition_grade"]) if line["condition_grade"] in grades else 0,
            key="wb_disp_grade",
        )
        note = st.text_area("Note (why)", key="wb_disp_note")
        sent = st.form_submit_button("Submit disposition")
    if sent:
        try:
            sub = submit_disposition(
                home(),
                user.username,
                session,
                return_line_id=chosen,
                splits={d: int(q) for d, q in split.items()},
                condition_grade=grade,
                note=note,
            )
        except WritebackError as exc:
            _failure(exc, key)
        else:
            _outcome(sub, key)


def adjustment_form(user) -> None:
    key = "wb_adj_form"
    session = _session(key)
    domain = load_domain()
    reasons = domain.raw["reason_codes"]["adjustment"]
    with st.form("wb_adj"):
        left, right = st.columns(2)
        sku = left.text_input("SKU", key="wb_adj_sku")
        node = right.text_input("Node", key="wb_adj_node")
        state = left.selectbox("State", list(domain.internal_states), key="wb_adj_state")
        qty = right.number_input(
            "Quantity (+ found / into the state, - removed from it)",
            value=0,
            step=1,
            key="wb_adj_qty",
        )
        reason = st.selectbox(
            "Reason code",
            list(reasons),
            format_func=lambda r: f"{r}: {reasons[r]}",
            key="wb_adj_reason",
        )
        note = st.text_area("Note (why)", key="wb_adj_note")
        sent = st.form_submit_button("Submit adjustment")
    if sent:
        try:
            sub = submit_adjustment(
                home(),
                user.username,
                session,
                sku=sku,
                node_id=node,
                state=state,
                quantity=int(qty),
                reason_code=reason,
                note=note,
            )
        except WritebackError as exc:
            _failure(exc, key)
        else:
            _outcome(sub, key)


def render() -> None:
    st.title("Submit")
    user = require("submit", "submit dispositions or stock adjustments")
    if user is None:
        return
    try:
        build = wh.current_build_id(home())
    except WritebackError as exc:
        st.info(str(exc))
        return
    t = load_domain().thresholds
    st.caption(
        f"Signed in as {user.username} ({user.role}) · data of publication `{build}` · "
        f"approval above {t['disposition_approval_value']:,.2f} (dispositions) and "
        f"{t['adjustment_approval_value']:,.2f} (adjustments) at weighted-average cost, "
        f"counting your submissions on the same SKU and node (or return) within "
        f"{t['approval_window_hours']:g} h."
    )
    kind = st.radio("Form", ["Disposition", "Stock adjustment"], horizontal=True, key="wb_kind")
    if kind == "Disposition":
        disposition_form(user)
    else:
        adjustment_form(user)
    recent_submissions(user)


def recent_submissions(user, limit: int = 10) -> None:
    """The signer's own latest submissions and where each one is on its way."""
    mine = [s for s in submission_status(home()) if same_user(s["submitted_by"], user.username)]
    if not mine:
        return
    st.subheader("Your recent submissions")
    st.button("Check again", key="wb_recent_refresh")
    for s in reversed(mine[-limit:]):
        when = f" at {s['applied_at']}" if s["applied_at"] else ""
        st.markdown(f"`{s['submission_id']}` · **{s['status']}**{when} · {s['what']}")


render()
