"""Data quality: the last gate's results, freshness per node, quarantined rows."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components import data
from opsledger.app.components.auth import can
from opsledger.app.components.docs_link import docs_link
from opsledger.app.components.ledger_exceptions import exceptions_section
from opsledger.app.components.sidebar import current_filters
from opsledger.app.components.tables import table
from opsledger.app.queries import overview, quality


def render() -> None:
    st.title("Data quality")
    docs_link()
    f = current_filters()
    if not data.warehouse_ready():
        return

    st.subheader("Last gate")
    results = data.load(quality.gate_results)
    if results is not None and not results.is_empty():
        failed = results.filter(~results["success"])
        c = st.columns(3)
        c[0].metric("Expectations", results.height, border=True)
        errors = failed.filter(failed["severity"] == "error").height
        c[1].metric("Failed (error)", errors, border=True)
        c[2].metric("Warnings", failed.height - errors, border=True)
    pubs = data.load(quality.publications)
    if pubs is not None and not pubs.is_empty() and "engine" in pubs.columns:
        st.caption(f"Built by: {pubs.row(0, named=True)['engine']}.")
    if pubs is not None and not pubs.is_empty() and "audit" in pubs.columns:
        latest = pubs.row(0, named=True)
        if latest["audit"] == "full":
            st.caption("Audit: full (every test on every row, every quality suite).")
        elif latest["audit"] == "build":
            st.caption(
                "Audit: per build (the rows, keys and history this build wrote); last full"
                f" audit {latest['last_full_audit_at']}."
            )
    table(results, "gate results")
    with st.expander("Publications"):
        table(pubs, "publications")

    exceptions_section()

    st.subheader("Freshness per node")
    table(data.load(overview.node_freshness, f), "freshness per node")

    if not can("admin"):  # raw rows and raw file lists: admins only
        st.caption("Quarantine and ingested files (raw tables) are shown to admins only.")
        return
    st.subheader("Quarantine")
    st.caption("Rows ingest could not load, by source and reason (raw.quarantine).")
    quar = data.load(quality.quarantine_summary)
    table(quar, "quarantine by source and reason")
    if quar is not None and not quar.is_empty():
        pairs = [f"{s} / {r}" for s, r in zip(quar["source"], quar["reason"], strict=True)]
        picked = st.selectbox("Sample rows of", pairs, key="dq_sample")
        if picked:
            source, reason = picked.split(" / ", 1)
            table(data.load(quality.quarantine_sample, None, source, reason), "quarantine sample")

    st.subheader("Ingested files")
    table(data.load(quality.ingest_files), "ingested files")


render()
