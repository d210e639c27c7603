"""Tables with a CSV download, everywhere."""

from __future__ import annotations

import re

import pandas as pd
import polars as pl
import streamlit as st


def _csv(frame: pl.DataFrame | pd.DataFrame) -> bytes:
    if isinstance(frame, pl.DataFrame):
        return frame.write_csv().encode("utf-8")
    return frame.to_csv(index=False).encode("utf-8")


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
