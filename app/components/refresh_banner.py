"""A banner on every page when the last refresh failed: when, which stage, the first
failures, how to see them, and which publication the app shows instead."""

from __future__ import annotations

import streamlit as st

from opsledger.core.paths import HomePaths
from opsledger.status import read_status


def last_failed_refresh(home=None) -> dict | None:
    """The last refresh's record when it did not publish, else None."""
    try:
        status = read_status(HomePaths.at(home).root)
    except Exception:  # an unreadable warehouse: the pages say so themselves
        return None
    last = status.get("last_refresh")
    if not last or last.get("current"):
        return None
    last["showing"] = (status.get("published") or {}).get("build_id")
    last["showing_at"] = (status.get("published") or {}).get("published_at")
    return last


def refresh_banner(last: dict | None) -> None:
    """Show the banner for `last` (from last_failed_refresh); nothing when None."""
    if last is None:
        return
    showing = (
        f"This app shows publication `{last['showing']}` of {last['showing_at']} instead."
        if last.get("showing")
        else "Nothing has been published yet."
    )
    lines = [
        f"**The last refresh failed** ({last.get('status')}, stage "
        f"{last.get('stage') or '?'}, {last.get('finished_at') or 'time unknown'}): "
        f"{last.get('message') or ''}",
        showing,
    ]
    for name in (last.get("failing") or [])[:3]:
        lines.append(f"- failed: `{name}`")
    lines.append(
        "See them with `opsledger status`"
        + (
            f"; the failing build is kept at `{last['failed_build']}`."
            if last.get("failed_build")
            else "."
        )
    )
    st.error("\n\n".join(lines), icon=":material/error:")
