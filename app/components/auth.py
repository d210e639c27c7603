"""Who is signed in (st.session_state), checked against the write-back store each run."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from opsledger.paths import HomePaths
from opsledger.writeback import User, get_user

SESSION_KEY = "wb_username"


def home() -> Path:
    return HomePaths.at(None).root


def current_user() -> User | None:
    """The signed-in user; a user disabled since sign-in is signed out."""
    name = st.session_state.get(SESSION_KEY)
    if not name:
        return None
    user = get_user(home(), name)
    if user is None or user.disabled:
        st.session_state.pop(SESSION_KEY, None)
        return None
    return user


def sign_in(user: User) -> None:
    st.session_state[SESSION_KEY] = user.username


def sign_out() -> None:
    for key in list(st.session_state):
        if key == SESSION_KEY or str(key).startswith("wb_"):
            del st.session_state[key]


def require(permission: str, what: str) -> User | None:
    """The user when signed in with `permission`; otherwise explains and returns None."""
    user = current_user()
    if user is None:
        st.info(f"Sign in to {what} (page **Sign in**).")
        return None
    if not user.can(permission):
        st.warning(
            f"Your role **{user.role}** cannot {what}: it needs the `{permission}` permission."
        )
        return None
    return user
