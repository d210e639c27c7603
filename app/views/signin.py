"""Sign in / sign out (users are managed with `opsledger users add/list/disable`)."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components.auth import current_user, sign_in_form, sign_out


def render() -> None:
    user = current_user()
    if user is None:
        sign_in_form()
        return
    st.title("Sign in")
    st.success(f"Signed in as **{user.username}** ({user.role}).")
    st.caption(f"Permissions: {', '.join(user.permissions)}")
    if st.button("Sign out", key="wb_sign_out"):
        sign_out()
        st.rerun()


render()
