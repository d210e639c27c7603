"""The link to the Docs page (dbt docs and lineage, GX Data Docs) that the Data
quality and SQL workbench pages show under their title."""

from __future__ import annotations

import streamlit as st

DOCS_PAGE = "views/docs.py"  # relative to app/main.py, as st.navigation registered it


def docs_link() -> None:
    st.page_link(
        DOCS_PAGE,
        label="Docs: every model and column, lineage, and the expectations' Data Docs",
        icon=":material/menu_book:",
    )
