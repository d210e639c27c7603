"""SQL workbench: documented schema browser, guarded read-only editor, results, history."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from opsledger.app import workbench
from opsledger.app.components import data
from opsledger.app.components.auth import current_user, home, token
from opsledger.app.components.docs_link import docs_link
from opsledger.app.components.tables import table
from opsledger.app.queries import catalog
from opsledger.core.settings import load_settings
from opsledger.models import load_domain

EXAMPLE = (
    "select date, kpi, value\nfrom marts.kpi_daily\nwhere dimension = 'all'\n"
    "order by date desc, kpi\nlimit 100"
)


def readable_schemas() -> tuple[str, ...] | None:
    """The schemas the signed-in role may read in the workbench (None: all)."""
    user = current_user()
    if user is None:
        return ()
    schemas = tuple(load_domain().roles.get(user.role, {}).get("schemas", ()))
    return None if user.can("admin") else schemas


def schema_browser() -> None:
    tables = data.load(catalog.tables)
    schemas = readable_schemas()
    if tables is not None and schemas is not None:
        tables = tables.filter(tables["schema"].is_in(list(schemas)))
    if tables is None or tables.is_empty():
        return
    path, _ = data.current()
    docs = catalog.dbt_docs(catalog.manifest_path(path.parent))
    names = [f"{s}.{n}" for s, n in zip(tables["schema"], tables["name"], strict=True)]
    picked = st.selectbox("Table", names, key="wb_table")
    if not picked:
        return
    schema, name = picked.split(".", 1)
    doc = docs.get(picked, {})
    row = tables.filter((tables["schema"] == schema) & (tables["name"] == name)).to_dicts()[0]
    st.caption(doc.get("description") or row.get("description") or "No description.")
    cols = data.load(catalog.table_columns, None, schema, name)
    if cols is not None and doc.get("columns"):
        import polars as pl

        cols = cols.with_columns(
            pl.col("column")
            .replace_strict(doc["columns"], default=None, return_dtype=pl.String)
            .fill_null(pl.col("description"))
            .alias("description")
        )
    table(cols, "columns", height=300)
    st.caption("Docs from dbt's manifest." if docs else "Docs from the warehouse's comments.")


def render() -> None:
    st.title("SQL workbench")
    docs_link()
    if not data.warehouse_ready():
        return
    path, _ = data.current()
    settings = load_settings(home())
    browser, editor = st.columns([1, 2])
    with browser:
        st.subheader("Schema")
        schema_browser()
    with editor:
        st.subheader("Query")
        st.caption(
            "Read-only: one SELECT, WITH, DESCRIBE, SHOW or EXPLAIN statement; no file access; "
            f"stopped after {settings.workbench_timeout_seconds:g} s or "
            f"{settings.workbench_memory_limit} of memory; first "
            f"{settings.workbench_row_limit:,} rows, at most "
            f"{settings.workbench_max_result_bytes / 2**20:,.0f} MiB; schemas: "
            f"{', '.join(readable_schemas() or ()) or 'all'}."
        )
        sql = st.text_area("SQL", value=EXAMPLE, height=180, key="wb_sql")
        history: list[dict] = st.session_state.setdefault("wb_history", [])
        if st.button("Run", type="primary", key="wb_run", icon=":material/play_arrow:"):
            try:
                result = workbench.run(
                    path,
                    sql,
                    timeout_s=settings.workbench_timeout_seconds,
                    row_limit=settings.workbench_row_limit,
                    memory_limit=settings.workbench_memory_limit,
                    max_bytes=settings.workbench_max_result_bytes,
                    schemas=readable_schemas(),
                    session_key=token(),
                )
            except Exception as exc:  # every failure becomes a message, never a traceback
                message = workbench.friendly_error(exc)
                st.session_state["wb_last"] = {"error": message}
                history.insert(
                    0,
                    _entry(
                        sql, "refused" if isinstance(exc, workbench.Refused) else "error", message
                    ),
                )
            else:
                st.session_state["wb_last"] = {"result": result}
                history.insert(
                    0,
                    _entry(sql, "ok", f"{len(result.frame):,} rows in {result.seconds:.2f} s"),
                )
            del history[50:]
        last = st.session_state.get("wb_last")
        if last and "error" in last:
            st.error(last["error"])
        elif last and "result" in last:
            result = last["result"]
            for note in result.notes:
                st.warning(note)
            st.caption(f"{len(result.frame):,} rows in {result.seconds:.2f} s")
            table(result.frame, "query result")
    st.subheader("History")
    if history := st.session_state.get("wb_history"):
        import pandas as pd

        table(pd.DataFrame(history), "query history")
    else:
        st.caption("Queries you run in this session appear here.")


def _entry(sql: str, status: str, message: str) -> dict:
    return {
        "at": datetime.now().strftime("%H:%M:%S"),
        "status": status,
        "message": message,
        "sql": sql.strip(),
    }


render()
