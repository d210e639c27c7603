"""Sign in / sign out (users are managed with `opsledger users add/list/disable`)."""

from __future__ import annotations

import streamlit as st

from app.components.auth import current_user, home, sign_in, sign_out
from opsledger.writeback import authenticate, users_list


def render() -> None:
    st.title("Sign in")
    user = current_user()
    if user is not None:
        st.success(f"Signed in as **{user.username}** ({user.role}).")
        st.caption(f"Permissions: {', '.join(user.permissions)}")
        if st.button("Sign out", key="wb_sign_out"):
            sign_out()
            st.rerun()
        return
    if not users_list(home()):
        st.info(
            "No users yet. An admin creates them with:\n\n```\nopsledger users add NAME --role admin\n```"
        )
    with st.form("wb_sign_in_form"):
        username = st.text_input("Username", key="wb_username_input")
        password = st.text_input("Password", type="password", key="wb_password_input")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        found = authenticate(home(), username, password)
        if found is None:
            st.error("Unknown user, wrong password, or the user is disabled.")
        else:
            sign_in(found)
            st.rerun()


render()
