"""Tables with a CSV download, everywhere."""

from __future__ import annotations

import re

import pandas as pd
import polars as pl
import streamlit as st

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def _csv(frame: pl.DataFrame | pd.DataFrame) -> bytes:
    """CSV with formula-leading text cells escaped (OWASP CSV injection)."""
    if isinstance(frame, pd.DataFrame):
        return frame.map(escape_cell).to_csv(index=False).encode("utf-8")
    text_cols = [c for c, t in frame.schema.items() if t in (pl.Utf8, pl.Categorical)]
    safe = frame.with_columns(
        pl.when(pl.col(c).cast(pl.Utf8).str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + pl.col(c).cast(pl.Utf8))
        .otherwise(pl.col(c).cast(pl.Utf8))
        .alias(c)
        for c in text_cols
    )
    return safe.write_csv().encode("utf-8")


def table(
    frame: pl.DataFrame | pd.DataFrame | None,
    name: str,
    *,
    caption: str | None = None,
    height: int | None = None,
) -> None:
    """A results grid and a "Download CSV" button (file named after the table)."""
    if frame is None:
        return
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if caption:
        st.caption(caption)
    if len(frame) == 0:
        st.caption("No rows for the current filters.")
    st.dataframe(frame, hide_index=True, height=height or "auto")
    st.download_button(
        "Download CSV",
        data=_csv(frame),
        file_name=f"{slug}.csv",
        mime="text/csv",
        key=f"csv_{slug}",
        on_click="ignore",
        icon=":material/download:",
    )
