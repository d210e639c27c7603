"""Who is signed in: a server-side session token in st.session_state, resolved against
the write-back store on every run (expired sessions and disabled users are signed out).

`guard` is the app's single gate (called by main.py before any page runs): signed
out, every page URL shows the sign-in form and nothing else; signed in, a page needs
its permission."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from opsledger.core.paths import HomePaths
from opsledger.core.settings import load_settings
from opsledger.writeback import User, users_list
from opsledger.writeback.access import end_session, open_session, session_user, sign_in

SESSION_KEY = "wb_session"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def home() -> Path:
    return HomePaths.at(None).root


def token() -> str | None:
    return st.session_state.get(SESSION_KEY)


def current_user() -> User | None:
    """The signed-in user; a session that expired or whose user was disabled since
    sign-in is signed out."""
    tok = token()
    if not tok:
        return None
    user = session_user(home(), tok)
    if user is None:
        _clear()
        st.session_state["wb_expired"] = True
    return user


def client() -> str:
    """The browser's address: the peer, or the first X-Forwarded-For hop when the peer
    is a reverse proxy on this machine (docs/deployment.md)."""
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For") if peer in LOOPBACK else None
    except Exception:  # no browser context (tests, scripts)
        return ""
    peer = peer if isinstance(peer, str) else ""
    forwarded = forwarded if isinstance(forwarded, str) else ""
    return (forwarded.split(",")[0].strip() if forwarded else peer) or ""


def _clear() -> None:
    for key in list(st.session_state):
        if str(key).startswith("wb_"):
            del st.session_state[key]


def sign_out() -> None:
    end_session(home(), token())
    _clear()
    try:
        if load_settings(home()).provider == "oidc" and st.user.is_logged_in:
            st.logout()
    except Exception:  # no OIDC session
        pass


def sign_in_form() -> None:
    """The sign-in form (local users; and single sign-on when settings turn it on)."""
    st.title("Sign in")
    if st.session_state.pop("wb_expired", False):
        st.info("Your session ended: sign in again.")
    settings = load_settings(home())
    if settings.provider == "oidc":
        _oidc_sign_in(settings.username_claim)
    if not users_list(home()):
        st.info(
            "No users yet. An admin creates them with:\n\n```\nopsledger users add NAME --role admin\n```"
        )
    with st.form("wb_sign_in_form"):
        username = st.text_input("Username", key="wb_username_input")
        password = st.text_input("Password", type="password", key="wb_password_input")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        result = sign_in(home(), username, password, client())
        if result.user is None:
            st.error(result.message)
        else:
            st.session_state[SESSION_KEY] = result.token
            st.rerun()


def _oidc_sign_in(claim: str) -> None:
    if st.user.is_logged_in:
        name = str(st.user.get(claim) or "")
        from opsledger.writeback import get_user

        user = get_user(home(), name) if name else None
        if user is None or user.disabled:
            st.error(
                f"Signed in with single sign-on as {name or '(no ' + claim + ')'}, but no "
                "enabled opsledger user has that name: ask an admin to add you."
            )
            st.button("Sign out of single sign-on", on_click=st.logout, key="wb_oidc_out")
            return
        st.session_state[SESSION_KEY] = open_session(home(), user.username)
        st.rerun()
    st.button("Sign in with single sign-on", on_click=st.login, key="wb_oidc_in", type="primary")
    st.caption("Or with a local opsledger user:")


def guard(page_title: str, permission: str | None) -> User | None:
    """Stop the run unless a user is signed in with `permission` (None: the sign-in
    page itself, open to all). Returns the signed-in user, if any."""
    user = current_user()
    if permission is None:
        return user
    if user is None:
        sign_in_form()
        st.stop()
    if not user.can(permission):
        st.title(page_title)
        st.warning(
            f"Your role **{user.role}** cannot open {page_title}: it needs the "
            f"`{permission}` permission."
        )
        st.stop()
    return user


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


def can(permission: str) -> bool:
    user = current_user()
    return user is not None and user.can(permission)
