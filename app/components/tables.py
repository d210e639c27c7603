"""Tables with a CSV download and formats a finance person accepts: percentages as
percentages, money with the currency, durations with units, thousands separators."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import polars as pl
import streamlit as st

from opsledger.app.kpis import currency_prefix

NUMERIC = (pl.Float32, pl.Float64, pl.Decimal)

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


def column_format(unit: str, currency: str | None = None) -> Any:
    """st.column_config for a column holding a value in `unit`."""
    if unit == "ratio":
        return st.column_config.NumberColumn(format="percent")
    if unit == "currency":
        return st.column_config.NumberColumn(format=f"{currency_prefix(currency)}%,.2f")
    if unit == "days":
        return st.column_config.NumberColumn(format="%.1f days")
    if unit == "hours":
        return st.column_config.NumberColumn(format="%.1f h")
    if unit == "minutes":
        return st.column_config.NumberColumn(format="%,.0f min")
    return st.column_config.NumberColumn(format="%,.0f")


def _auto_units(frame: pl.DataFrame) -> dict[str, str]:
    """Units read off column names where the caller did not say."""
    out: dict[str, str] = {}
    for col, dtype in frame.schema.items():
        if not (dtype.is_numeric()):
            continue
        name = col.lower()
        if re.search(r"(^|_)(rate|ira|share|otif)($|_)", name) or name.endswith("_pct"):
            out[col] = "ratio"
        elif (
            re.search(
                r"(value|revenue|margin|amount|cost|liability|refunded|debit|credit|balance|proceeds|sales|cogs)",
                name,
            )
            and "qty" not in name
        ):
            out[col] = "currency"
        elif name.endswith("_days") or "days_" in name:
            out[col] = "days"
        elif name.endswith("_minutes"):
            out[col] = "minutes"
        elif dtype.is_integer() or dtype in NUMERIC:
            out[col] = "number" if dtype.is_integer() else "float"
    return out


def column_config(
    frame: pl.DataFrame, units: dict[str, str] | None, currency: str | None
) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        col: st.column_config.DateColumn(format="YYYY-MM-DD")
        for col, dtype in frame.schema.items()
        if dtype == pl.Date
    }
    merged = _auto_units(frame) | (units or {})
    for col, unit in merged.items():
        if col not in frame.columns:
            continue
        if unit == "float":
            cfg[col] = st.column_config.NumberColumn(format="localized")
        else:
            cfg[col] = column_format(unit, currency)
    return cfg


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def table(
    frame: pl.DataFrame | pd.DataFrame | None,
    name: str,
    *,
    caption: str | None = None,
    height: int | None = None,
    units: dict[str, str] | None = None,
    currency: str | None = None,
    key: str | None = None,
) -> None:
    """A results grid and a "Download CSV" button (file named after the table)."""
    if frame is None:
        return
    s = key or slug(name)
    if caption:
        st.caption(caption)
    if len(frame) == 0:
        st.caption("No rows for the current filters.")
    pl_frame = frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
    if currency is None:
        from opsledger.app.components.data import currency_code

        currency = currency_code()
    st.dataframe(
        frame,
        hide_index=True,
        height=height or "auto",
        column_config=column_config(pl_frame, units, currency),
    )
    st.download_button(
        "Download CSV",
        # deferred: written when clicked, not on every rerun of the page
        data=lambda: _csv(frame),
        file_name=f"{slug(name)}.csv",
        mime="text/csv",
        key=f"csv_{s}",
        on_click="ignore",
        icon=":material/download:",
    )
