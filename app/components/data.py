"""Streamlit side of warehouse access: results cached per publication version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from opsledger.app.filters import Filters
from opsledger.app.kpis import definitions
from opsledger.app.warehouse import NotBuilt, Version, WarehouseMissing, connect, is_empty, version
from opsledger.core.paths import HomePaths
from opsledger.models.kpis import Kpi


def warehouse_file() -> Path:
    """`<home>/warehouse.duckdb` with home from $OPSLEDGER_HOME (serve passes it through)."""
    return HomePaths.at(None).warehouse


def current() -> tuple[Path, Version | None]:
    path = warehouse_file()
    return path, version(path)


@st.cache_data(max_entries=1024, show_spinner=False)
def _cached(
    path: str,
    version_key: str,
    name: str,
    filters_key: tuple[Any, ...],
    args: tuple[Any, ...],
    _fn: Callable[..., Any],
    _filters: Filters | None,
) -> Any:
    with connect(Path(path)) as con:
        if _filters is None:
            return _fn(con, *args)
        return _fn(con, _filters, *args)


def run(fn: Callable[..., Any], filters: Filters | None = None, *args: Any) -> Any:
    """Run a query function (con, [filters], *args) on the current publication, cached on
    (file version, function, filters, args). A newly published warehouse has a new
    version, so the next rerun queries it: no restart needed."""
    path, ver = current()
    if ver is None:
        raise WarehouseMissing(str(path))
    return _cached(
        str(path),
        ver.key(),
        f"{fn.__module__}.{fn.__qualname__}",
        filters.key() if filters is not None else (),
        args,
        fn,
        filters,
    )


def load(fn: Callable[..., Any], filters: Filters | None = None, *args: Any) -> Any | None:
    """`run`, showing a friendly note instead of a traceback when a mart is missing."""
    try:
        return run(fn, filters, *args)
    except NotBuilt as exc:
        st.info(
            f"`{exc.table}` is not built yet: it appears in the warehouse after the "
            "`opsledger refresh` that first builds it."
        )
    except WarehouseMissing:
        st.info("No published warehouse yet: run `opsledger refresh`.")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        st.warning(f"This view could not be computed from the published marts: {first}")
    return None


def _probe(con: duckdb.DuckDBPyConnection) -> bool:
    return not is_empty(con)


def warehouse_ready() -> bool:
    """True when a published warehouse with marts exists; otherwise shows what to run."""
    path, ver = current()
    if ver is None:
        show_missing(path, "No published warehouse yet.")
        return False
    try:
        ready = run(_probe)
    except duckdb.Error as exc:
        show_missing(path, f"The published warehouse cannot be read ({type(exc).__name__}).")
        return False
    if not ready:
        show_missing(path, "The published warehouse has no marts yet.")
        return False
    return True


def show_missing(path: Path, headline: str) -> None:
    st.info(
        f"**{headline}**\n\n"
        "Build and publish one with:\n\n"
        "```\nopsledger generate --scale 0.05   # or land your own files\n"
        "opsledger refresh\n```\n\n"
        f"The app reads `{path}` and picks up each new publication on its own."
    )


def kpis() -> dict[str, Kpi]:
    """Governed definitions (models/kpis.yml, the metrics service's catalog)."""
    return definitions()


def frame_or_empty(frame: pl.DataFrame | None) -> pl.DataFrame:
    return frame if frame is not None else pl.DataFrame()


def currency_code() -> str | None:
    """The merchant's currency ($OPSLEDGER_CURRENCY, else its orders'), per publication."""
    from opsledger.app.queries.common import currency

    try:
        return run(currency)
    except Exception:  # no warehouse yet: amounts without a currency
        return None
