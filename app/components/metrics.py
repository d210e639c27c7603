"""Every KPI value the app shows, from the metrics service, cached per publication.

The cache key is (warehouse file version, KPI, slice, group-by): a new publication has
a new version, so the next rerun asks the service again; any other rerun (a widget, a
page switch) is served from memory without a query."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from opsledger.app.components import data
from opsledger.app.filters import Filters
from opsledger.app.warehouse import WarehouseMissing, connect
from opsledger.metrics.service import KpiValue, MetricsError, MetricsService, Slice


def _slice_from_key(key: tuple[Any, ...]) -> Slice:
    start, end, filters = key
    return Slice(start=start, end=end, filters=dict(filters))


@st.cache_data(max_entries=4096, show_spinner=False)
def _evaluate(
    path: str, version_key: str, kpi: str, slice_key: tuple[Any, ...], by: tuple[str, ...]
) -> list[KpiValue] | str:
    with connect(Path(path)) as con:
        service = MetricsService(con)
        s = _slice_from_key(slice_key)
        why = service.supports(service.kpi(kpi), s, by)
        if why:
            return why
        return service.evaluate(kpi, s, by)


@st.cache_data(max_entries=1024, show_spinner=False)
def _evaluate_many(
    path: str, version_key: str, kpis: tuple[str, ...], slice_key: tuple[Any, ...]
) -> dict[str, list[KpiValue] | str]:
    """Several KPIs over one slice on one connection (a page's cards)."""
    with connect(Path(path)) as con:
        return MetricsService(con).evaluate_many(kpis, _slice_from_key(slice_key))


@st.cache_data(max_entries=64, show_spinner=False)
def _bounds(path: str, version_key: str) -> tuple[date | None, date | None]:
    with connect(Path(path)) as con:
        return MetricsService(con).bounds()


def evaluate(kpi: str, f: Filters, by: tuple[str, ...] = ()) -> list[KpiValue] | str:
    """The KPI over the filters' slice (grouped by `by`), or why the slice does not apply
    ("not defined by <dimension>")."""
    path, ver = data.current()
    if ver is None:
        raise WarehouseMissing(str(path))
    return _evaluate(str(path), ver.key(), kpi, f.to_slice().key(), tuple(by))


def not_defined(reason: str) -> str:
    """The short form of the service's reason: 'not defined by node'."""
    head = reason.split(";")[0]
    return (
        "not defined by " + head.split(" is not defined by ", 1)[1]
        if " is not defined by " in head
        else head
    )


def value(kpi: str, f: Filters) -> KpiValue | str:
    try:
        rows = evaluate(kpi, f)
    except (MetricsError, duckdb.Error) as exc:
        return str(exc)
    if isinstance(rows, str):
        return not_defined(rows)
    return rows[0] if rows else KpiValue(kpi, (), None, None, None, 0)


def values(kpis: tuple[str, ...], f: Filters) -> dict[str, KpiValue | str]:
    """A page's cards: one cached call, one connection."""
    path, ver = data.current()
    if ver is None:
        raise WarehouseMissing(str(path))
    rows = _evaluate_many(str(path), ver.key(), tuple(kpis), f.to_slice().key())
    out: dict[str, KpiValue | str] = {}
    for k, r in rows.items():
        if isinstance(r, str):
            out[k] = not_defined(r)
        else:
            out[k] = r[0] if r else KpiValue(k, (), None, None, None, 0)
    return out


def frame(kpi: str, f: Filters, by: tuple[str, ...]) -> pl.DataFrame | str:
    """The KPI grouped by `by` as a frame: one column per group-by, then value,
    numerator, denominator and fact_rows; a string when the slice does not apply."""
    rows = evaluate(kpi, f, by)
    if isinstance(rows, str):
        return not_defined(rows)
    schema: dict[str, Any] = {
        b: (pl.Date if b in ("day", "week", "month") else pl.String) for b in by
    }
    schema |= {
        "value": pl.Float64,
        "numerator": pl.Float64,
        "denominator": pl.Float64,
        "fact_rows": pl.Int64,
    }
    records = [[*r.group, r.value, r.numerator, r.denominator, r.fact_rows] for r in rows]
    return pl.DataFrame(records, schema=schema, orient="row")


def bounds() -> tuple[date | None, date | None]:
    path, ver = data.current()
    if ver is None:
        return (None, None)
    try:
        return _bounds(str(path), ver.key())
    except duckdb.Error:
        return (None, None)


def dimension_values(dimension: str) -> list[str]:
    try:
        return data.run(_dimension_values, None, dimension)
    except Exception:  # missing or unreadable file: the pages explain
        return []


def _dimension_values(con: duckdb.DuckDBPyConnection, dimension: str) -> list[str]:
    try:
        return MetricsService(con).dimension_values(dimension)
    except duckdb.Error:
        return []
