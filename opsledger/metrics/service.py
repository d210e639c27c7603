"""The metrics service: any governed KPI for any slice, as one SQL query over the
published marts (no Streamlit here; the app and `opsledger kpi` both call it).

A slice is a date range and any combination of dimension filters; an optional
group-by is dimensions and/or a period (day, week, month). The SQL comes from
models/kpi_sql.py, the compiler that also generates kpi_daily's model.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from opsledger.core.environment import environment
from opsledger.models.kpi_sql import Dialect, dimension_sql, measure_columns, open_on, rows_select
from opsledger.models.kpis import GRAINS, Catalog, Kpi, catalog

# queries of one batch run side by side (evaluate_many): beyond ~4 on 2 cores they
# only queue
PARALLEL_QUERIES = 4


class MetricsError(ValueError):
    """A request the definitions do not allow; the message names what is allowed."""


@dataclass(frozen=True)
class Slice:
    """A date range (inclusive days; None = open) and dimension filters."""

    start: date | None = None
    end: date | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def key(self) -> tuple[Any, ...]:
        return (self.start, self.end, tuple(sorted((k, v) for k, v in self.filters.items() if v)))

    def active(self) -> dict[str, tuple[str, ...]]:
        return {d: tuple(v) for d, v in self.filters.items() if v}


@dataclass(frozen=True)
class KpiValue:
    kpi: str
    group: tuple[Any, ...]  # values of the group-by, () for the slice's total
    value: float | None
    numerator: float | None
    denominator: float | None
    fact_rows: int


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def period_start(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def group_columns(by: Sequence[str]) -> list[str]:
    """Columns of an evaluation's groups: the period first, then the dimensions."""
    period = next((b for b in by if b in GRAINS), None)
    return ([period] if period else []) + [b for b in by if b not in GRAINS]


def _period_ends(start: date, end: date, grain: str) -> list[date]:
    """The last day of each period of [start, end], clipped to end."""
    out: list[date] = []
    day = start
    while day <= end:
        if grain == "day":
            nxt = day + timedelta(days=1)
        elif grain == "week":
            nxt = period_start(day, "week") + timedelta(days=7)
        else:
            nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        out.append(min(nxt - timedelta(days=1), end))
        day = nxt
    return out


class MetricsService:
    """KPIs over one open connection to a published warehouse (read-only)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, definitions: Catalog | None = None):
        self.con = con
        self.catalog = definitions or catalog()
        self._bounds: tuple[date | None, date | None] | None = None
        self._as_of: tuple[date | None] | None = None

    # -- definitions and validation ---------------------------------------

    def kpi(self, name: str) -> Kpi:
        try:
            return self.catalog.get(name)
        except KeyError:
            allowed = ", ".join(self.catalog.kpis)
            raise MetricsError(f"unknown KPI {name!r}; KPIs: {allowed}") from None

    def check(self, kpi: Kpi, s: Slice, by: Sequence[str] = ()) -> None:
        """Refuse a filter or group-by the KPI's definition does not allow."""
        for dim in [*s.active(), *(b for b in by if b not in GRAINS)]:
            if dim not in kpi.dimensions:
                raise MetricsError(
                    f"{kpi.kpi} is not defined by {dim}; its dimensions: "
                    f"{', '.join(kpi.dimensions) or 'none'} (or by day, week, month)"
                )
        periods = [b for b in by if b in GRAINS]
        if len(periods) > 1:
            raise MetricsError("group by at most one period (day, week or month)")

    def supports(self, kpi: Kpi, s: Slice, by: Sequence[str] = ()) -> str | None:
        """None when the slice applies to the KPI, else why not."""
        try:
            self.check(kpi, s, by)
        except MetricsError as exc:
            return str(exc)
        return None

    def bounds(self) -> tuple[date | None, date | None]:
        """First and last day of the data (marts.dim_date), read once."""
        if self._bounds is None:
            row = self.con.execute(
                "select min(date_day), max(date_day) from marts.dim_date"
            ).fetchone()
            self._bounds = (row[0], row[1]) if row else (None, None)
        return self._bounds

    def as_of(self) -> date | None:
        """The data's as-of day (marts.kpi_as_of), read once: KPI conditions get it as
        a literal."""
        if self._as_of is None:
            try:
                row = self.con.execute("select max(as_of_date) from marts.kpi_as_of").fetchone()
            except duckdb.CatalogException:
                row = None
            self._as_of = (row[0] if row else None,)
        return self._as_of[0]

    # -- SQL -----------------------------------------------------------------

    def _snapshot_day(self, s: Slice) -> date | None:
        _, last = self.bounds()
        if s.end is None:
            return last
        return min(s.end, last) if last else s.end

    def slice_conditions(self, kpi: Kpi, s: Slice) -> tuple[list[str], dict[str, Any]]:
        conds: list[str] = []
        params: dict[str, Any] = {}
        for i, (dim, values) in enumerate(sorted(s.active().items())):
            conds.append(f"list_contains($f{i}, {dimension_sql(kpi, dim, Dialect.DUCKDB)})")
            params[f"f{i}"] = list(values)
        if kpi.kind == "flow":
            if s.start:
                conds.append(f"cast(f.{kpi.time} as date) >= $start")
                params["start"] = s.start
            if s.end:
                conds.append(f"cast(f.{kpi.time} as date) <= $end")
                params["end"] = s.end
        return conds, params

    def sql(
        self, kpi: Kpi, s: Slice, by: Sequence[str] = ()
    ) -> tuple[str, dict[str, Any], list[str]]:
        """(SQL, parameters, output group columns) of the KPI over the slice."""
        self.check(kpi, s, by)
        dims = tuple(dict.fromkeys([*s.active(), *(b for b in by if b not in GRAINS)]))
        period = next((b for b in by if b in GRAINS), None)
        conds, params = self.slice_conditions(kpi, s)
        days = [] if kpi.kind == "flow" else self.snapshot_days(s, period)
        if days:
            # implied by the join on the snapshot days below; said inside the rows
            # select too, so DuckDB prunes the fact's row groups by date
            conds.append(f"cast(f.{kpi.time} as date) <= $snapshot_last")
            params["snapshot_last"] = max(days)
            if kpi.kind != "open_items":
                conds.append(f"cast(f.{kpi.time} as date) >= $snapshot_first")
                params["snapshot_first"] = min(days)
        rows = rows_select(kpi, Dialect.DUCKDB, dims, conditions=tuple(conds), as_of=self.as_of())
        m = measure_columns(kpi, Dialect.DUCKDB)
        groups = [b for b in by if b not in GRAINS]
        select_groups = list(groups)
        source = "kpi_rows"
        if kpi.kind == "flow":
            if period:
                select_groups.insert(0, f"date_trunc('{period}', kpi_date)::date as {period}")
        elif not period and len(days) == 1:
            # one snapshot day: a filter, cheaper to plan than the join below
            params["day"] = days[0]
            on_day = open_on("$day") if kpi.kind == "open_items" else "kpi_date = $day"
            source = f"kpi_rows where {on_day}"
        else:
            params["days"] = days
            if kpi.kind == "open_items":
                source = (
                    "kpi_rows join (select unnest($days)::date as snapshot_day) as d"
                    " on " + open_on("d.snapshot_day")
                )
            else:
                source = "kpi_rows join (select unnest($days)::date as snapshot_day) as d"
                source += " on kpi_rows.kpi_date = d.snapshot_day"
            if period:
                select_groups.insert(0, f"date_trunc('{period}', d.snapshot_day)::date as {period}")
        out_groups = group_columns(by)
        group_sql = ", ".join(g.split(" as ")[0] for g in select_groups)
        select = ", ".join(
            [
                *select_groups,
                f"{m.value} as value",
                f"{m.numerator} as numerator",
                f"{m.denominator} as denominator",
                "count(*) as fact_rows",
            ]
        )
        sql = f"with kpi_rows as ({rows}) select {select} from {source}"
        if group_sql:
            sql += f" group by {group_sql} order by {group_sql}"
        return sql, params, out_groups

    def snapshot_days(self, s: Slice, period: str | None) -> list[date]:
        day = self._snapshot_day(s)
        if day is None:
            return []
        if not period:
            return [day]
        first, _ = self.bounds()
        start = max(d for d in (s.start, first) if d is not None) if (s.start or first) else day
        return _period_ends(start, day, period)

    # -- evaluation ------------------------------------------------------------

    def evaluate(self, name: str, s: Slice | None = None, by: Sequence[str] = ()) -> list[KpiValue]:
        """The KPI over the slice: one value, or one per group of the group-by."""
        kpi = self.kpi(name)
        s = s or Slice()
        sql, params, groups = self.sql(kpi, s, by)
        out = []
        for row in self.con.execute(sql, params).fetchall():
            g = tuple(row[: len(groups)])
            value, num, den, n = row[len(groups) :]
            if kpi.kind == "current" and not n:
                value = None  # no history: nothing is known about an earlier day
            out.append(KpiValue(kpi.kpi, g, _float(value), _float(num), _float(den), int(n)))
        return out

    def value(self, name: str, s: Slice | None = None) -> KpiValue:
        rows = self.evaluate(name, s)
        return rows[0] if rows else KpiValue(name, (), None, None, None, 0)

    def evaluate_many(
        self, names: Sequence[str], s: Slice, by: Sequence[str] = ()
    ) -> dict[str, list[KpiValue] | str]:
        """Several KPIs over one slice (a page's cards), their queries run side by side on
        cursors of the same database: most are small, and DuckDB spends their time
        planning on one core. A KPI the slice does not apply to gets the reason; one
        that fails gets "could not be computed: ..." and the others still come."""
        self.bounds()
        self.as_of()  # read once here, shared by the cursors' services
        names = list(dict.fromkeys(names))
        workers = max(1, min(PARALLEL_QUERIES, len(names)))
        # cursors opened here, on the caller's thread; each worker takes one for good
        free = queue.SimpleQueue()
        cursors = [self.con.cursor() for _ in range(workers)] if workers > 1 else [self.con]
        for cursor in cursors:
            free.put(self._sibling(cursor))
        local = threading.local()

        def one(name: str) -> list[KpiValue] | str:
            if not hasattr(local, "service"):
                local.service = free.get_nowait()
            service: MetricsService = local.service
            try:
                why = service.supports(service.kpi(name), s, by)
                return why if why else service.evaluate(name, s, by)
            except (MetricsError, duckdb.Error) as exc:
                return f"could not be computed: {str(exc).splitlines()[0]}"

        if workers == 1:
            return {name: one(name) for name in names}
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                return dict(zip(names, pool.map(one, names), strict=True))
        finally:
            for cursor in cursors:
                cursor.close()

    def _sibling(self, con: duckdb.DuckDBPyConnection) -> MetricsService:
        sibling = MetricsService(con, self.catalog)
        sibling._bounds, sibling._as_of = self._bounds, self._as_of
        return sibling

    def values(self, names: Sequence[str], s: Slice) -> dict[str, KpiValue | str]:
        """Several KPIs' values over one slice; a KPI the slice does not apply to (or
        that failed) gets the reason."""
        out: dict[str, KpiValue | str] = {}
        for name, got in self.evaluate_many(names, s).items():
            if isinstance(got, str):
                out[name] = got
            else:
                out[name] = got[0] if got else KpiValue(name, (), None, None, None, 0)
        return out

    def dimension_values(self, dimension: str) -> list[str]:
        """Allowed values of a dimension (for error messages and filter pickers)."""
        queries = {
            "channel": "select channel_id from marts.dim_channel",
            "node": "select node_id from marts.dim_node",
            "category": "select distinct category from marts.dim_sku",
            "product_class": "select distinct product_class from marts.dim_sku",
            "supplier": "select distinct supplier_id from marts.dim_sku",
            "state": "select distinct state from marts.fct_stock_on_hand",
        }
        if dimension not in queries:
            raise MetricsError(f"unknown dimension {dimension!r}; dimensions: {', '.join(queries)}")
        rows = self.con.execute(queries[dimension] + " order by 1").fetchall()
        return [str(r[0]) for r in rows if r[0] is not None]


def merchant_currency(con: duckdb.DuckDBPyConnection) -> str | None:
    """The merchant's currency: $OPSLEDGER_CURRENCY, else the one its orders are in."""
    setting = environment().currency
    if setting:
        return setting
    for sql in (
        "select currency from marts.fct_order_lines where currency is not null"
        " group by 1 order by count(*) desc limit 1",
        "select currency from marts.fct_po_lines where currency is not null"
        " group by 1 order by count(*) desc limit 1",
    ):
        try:
            row = con.execute(sql).fetchone()
        except duckdb.Error:
            continue
        if row and row[0]:
            return str(row[0]).upper()
    return None
