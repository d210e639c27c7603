"""Docs: the dbt docs site (models, columns, tests, lineage) and the GX Data Docs of the
last publication, served inside the app (both are plain files under the home)."""

from __future__ import annotations

import streamlit as st

from opsledger.app.components.auth import home, require
from opsledger.docs_site import docs_paths

SITE_HEIGHT = 900


def render() -> None:
    st.title("Docs")
    # app/main.py's guard stops a signed-out run before any page; this check also
    # holds when the page script runs alone (AppTest.switch_page runs it without main)
    if require("view", "open the docs") is None:
        return
    paths = docs_paths(home())
    st.caption(
        "Written by every publication (`opsledger refresh`); `opsledger docs --open` opens "
        "the same files in a browser, offline."
    )
    dbt_tab, gx_tab = st.tabs(["dbt docs and lineage", "Data Docs (Great Expectations)"])
    with dbt_tab:
        if not paths.dbt_site.is_file():
            st.info(f"No dbt docs site at `{paths.dbt_site}` yet: run `opsledger refresh`.")
        else:
            st.caption(
                "Models, columns, tests and the lineage graph (the icon at the bottom "
                f"right). File: `{paths.dbt_site}`"
            )
            # the static site (manifest and catalog embedded, several MB) as the
            # iframe's own document: it needs no file server and fetches nothing
            st.iframe(paths.dbt_site, height=SITE_HEIGHT)
    with gx_tab:
        if not paths.gx_site.is_file():
            st.info(f"No Data Docs at `{paths.gx_site}` yet: run `opsledger refresh`.")
        else:
            st.caption(f"The gate's validation results. File: `{paths.gx_site}`")
            st.iframe(paths.gx_site, height=SITE_HEIGHT)


render()
