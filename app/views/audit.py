"""Audit trail of write-back: who, role, when, what, why, approval chain, resulting events."""

from __future__ import annotations

import polars as pl
import streamlit as st

from opsledger.app.components.auth import home, require
from opsledger.app.components.tables import table
from opsledger.writeback import approval_chains, audit_log
from opsledger.writeback.audit import AUDIT_COLUMNS


def render() -> None:
    st.title("Audit")
    st.caption(
        "The write-back journal is append-only: entries are never updated or deleted. "
        "Each submission's approval chain ends in the event ids it produced."
    )
    user = require("view", "read the audit trail")
    if user is None:
        return
    chains = approval_chains(home())
    entries = audit_log(home())
    actors = sorted({e["actor"] for e in entries})
    left, mid, right = st.columns(3)
    who = left.multiselect("Who", actors, key="wb_audit_who")
    kinds = mid.multiselect(
        "Kind", ["adjustment", "disposition", "user", "signin"], key="wb_audit_kind"
    )
    text = right.text_input("Contains (id, SKU, note)", key="wb_audit_text")

    def keep(row: dict, actor_key: str) -> bool:
        if who and row[actor_key] not in who:
            return False
        if kinds and row["kind"] not in kinds:
            return False
        return not text or text.lower() in " ".join(str(v) for v in row.values()).lower()

    st.subheader("Submissions and approval chains")
    chain_cols = list(chains[0]) if chains else ["submission_id", "status", "approval_chain"]
    rows = [r for r in chains if keep(r, "submitted_by")]
    table(
        pl.DataFrame(
            rows,
            schema=dict.fromkeys(chain_cols, pl.Utf8) | ({"value": pl.Float64} if chains else {}),
            strict=False,
        ),
        "writeback approval chains",
    )
    st.subheader("Journal entries")
    rows = [r for r in entries if keep(r, "actor")]
    schema = dict.fromkeys(AUDIT_COLUMNS, pl.Utf8) | {"seq": pl.Int64, "value": pl.Float64}
    table(pl.DataFrame(rows, schema=schema, strict=False), "writeback audit log")


render()
