"""Property test of the metrics service on a warehouse the real pipeline built.

Random slices (date ranges, filter combinations, group-bys) for every KPI: the
service's value must equal the KPI recomputed here, in Python, from the fact rows
(the definition's `where` selects the rows; slicing, snapshot days, grouping and
the measure are re-implemented independently of models/kpi_sql.py), and on single
days it must equal marts.kpi_daily.
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from opsledger.core.readonly import connect_read_only
from opsledger.metrics.service import MetricsService, Slice
from opsledger.models.kpi_sql import Dialect, kpi_where
from opsledger.models.kpis import SKU_DIMENSIONS, Kpi, catalog

SLICES_PER_KPI = 50
KPIS = list(catalog().kpis)


@pytest.fixture(scope="module")
def con(real_home: Path):
    c = connect_read_only(real_home / "warehouse.duckdb")  # one configuration per process
    yield c
    c.close()


@pytest.fixture(scope="module")
def service(con) -> MetricsService:
    return MetricsService(con)


class Oracle:
    """A KPI's fact rows (polars), and the KPI computed from them independently."""

    def __init__(self, con: duckdb.DuckDBPyConnection, kpi: Kpi):
        self.kpi = kpi
        f = kpi.fact
        dims = []
        for d in kpi.dimensions:
            alias, col = kpi.column_for(d)
            dims.append(f"{'f' if alias == 'f' else 's'}.{col} as dim_{d}")
        m = kpi.measure
        cols = {"ratio": [m.numerator, m.denominator]}.get(m.type, [m.expr] if m.expr else [])
        measures = [f"cast(({c}) as double) as m{i}" for i, c in enumerate(cols)]
        closed = [f"cast(f.{kpi.closed} as date) as closed_day"] if kpi.closed else []
        # dim_sku's dimension columns only: the measure names the fact's columns unqualified
        sku_cols = ", ".join(SKU_DIMENSIONS.values())
        join = (
            f" left join (select sku, {sku_cols} from marts.dim_sku) s on f.{f.sku} = s.sku"
            if f.sku
            else ""
        )
        where = kpi_where(kpi, Dialect.DUCKDB)
        # the definition's where names the fact's own columns: apply it to the fact alone
        sql = (
            f"with f as (select * from marts.{f.model}"
            + (f" where {where}" if where else "")
            + ") select "
            + ", ".join([f"cast(f.{kpi.time} as date) as day", *closed, *dims, *measures])
            + f" from f{join}"
        )
        frame = con.execute(sql).pl()
        self.frame = frame.with_columns(
            [pl.col(f"dim_{d}").cast(pl.String).fill_null("unknown") for d in kpi.dimensions]
        )

    def compute(
        self, s: Slice, by: tuple[str, ...], last_day: date
    ) -> dict[tuple, tuple[float | None, int]]:
        kpi = self.kpi
        period = next((b for b in by if b in ("day", "week", "month")), None)
        dims = [f"dim_{b}" for b in by if b not in ("day", "week", "month")]
        frame = self.frame
        for d, values in s.active().items():
            frame = frame.filter(pl.col(f"dim_{d}").is_in(list(values)))
        if kpi.kind == "flow":
            if s.start:
                frame = frame.filter(pl.col("day") >= s.start)
            if s.end:
                frame = frame.filter(pl.col("day") <= s.end)
            frame = frame.filter(pl.col("day").is_not_null()).with_columns(at=pl.col("day"))
        else:
            days = self._snapshot_days(s, period, last_day)
            if kpi.kind == "open_items":
                frame = frame.join(pl.DataFrame({"at": days}, schema={"at": pl.Date}), how="cross")
                frame = frame.filter(
                    (pl.col("day") <= pl.col("at"))
                    & (pl.col("closed_day").is_null() | (pl.col("closed_day") > pl.col("at")))
                )
            else:  # a daily snapshot: the rows of the snapshot days themselves
                frame = frame.filter(pl.col("day").is_in(days)).with_columns(at=pl.col("day"))
        keys = dims
        if period:
            trunc = {"day": "1d", "week": "1w", "month": "1mo"}[period]
            frame = frame.with_columns(period=pl.col("at").dt.truncate(trunc))
            keys = ["period", *dims]
        if not keys:
            return {(): self._measure(frame)} if frame.height else {}
        return {
            tuple(k if isinstance(k, tuple) else (k,)): self._measure(g)
            for k, g in frame.group_by(keys, maintain_order=True)
        }

    def _snapshot_days(self, s: Slice, period: str | None, last_day: date) -> list[date]:
        end = min(s.end, last_day) if s.end else last_day
        if not period:
            return [end]
        first = self.frame["day"].min() or end
        start = max(s.start, first) if s.start else first
        days, d = [], start
        while d <= end:
            nxt = d + timedelta(days=1)
            if period == "day" or _period(nxt, period) != _period(d, period) or nxt > end:
                days.append(d)
            d = nxt
        return days

    def _measure(self, rows: pl.DataFrame) -> tuple[float | None, int]:
        m = self.kpi.measure
        n = rows.height
        div = m.divisor or 1.0
        values = rows["m0"].drop_nulls() if "m0" in rows.columns else None
        if m.type == "count":
            return float(n), n
        if m.type == "sum":
            if m.known_only and n and values.len() == 0:
                return None, n  # rows, none of them known: undefined, not 0
            return float(values.sum()) / div, n
        if m.type == "ratio":
            den = float(rows["m1"].sum())
            return (float(values.sum()) / den if den > 0 else None), n
        if values is None or values.len() == 0:
            return None, n
        if m.type == "quantile":
            return float(np.quantile(values.to_numpy(), m.p, method="linear")) / div, n
        if m.type == "mean":
            return statistics.fmean(values.to_list()) / div, n
        return (statistics.stdev(values.to_list()) / div if values.len() > 1 else None), n


def _period(day: date, period: str | None) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def _random_slice(
    rng: random.Random, service: MetricsService, kpi: Kpi, values: dict[str, list[str]]
) -> tuple[Slice, tuple[str, ...]]:
    first, last = service.bounds()
    span = (last - first).days
    start = first + timedelta(days=rng.randrange(span + 1)) if rng.random() < 0.8 else None
    end = None
    if rng.random() < 0.8:
        lo = start or first
        end = lo + timedelta(days=rng.randrange((last - lo).days + 1))
    filters = {}
    for d in rng.sample(list(kpi.dimensions), k=min(len(kpi.dimensions), rng.randrange(3))):
        pool = values[d] + ["unknown"]
        filters[d] = tuple(rng.sample(pool, k=min(len(pool), rng.randrange(1, 3))))
    by: list[str] = []
    if rng.random() < 0.4 and kpi.dimensions:
        by.append(rng.choice(kpi.dimensions))
    if rng.random() < 0.4:
        by.insert(0, rng.choice(["day", "week", "month"]))
    return Slice(start, end, filters), tuple(by)


@pytest.mark.parametrize("name", KPIS)
def test_service_equals_the_kpi_recomputed_from_fact_rows(name, con, service):
    kpi = service.kpi(name)
    oracle = Oracle(con, kpi)
    rng = random.Random(f"{name}-slices")
    values = {d: service.dimension_values(d) for d in kpi.dimensions}
    _, last = service.bounds()
    nonempty = 0
    for _ in range(SLICES_PER_KPI):
        s, by = _random_slice(rng, service, kpi, values)
        got = {v.group: (v.value, v.fact_rows) for v in service.evaluate(name, s, by)}
        want = oracle.compute(s, by, last)
        if not by and not want:  # an aggregate without rows: zero for sums, else unknown
            empty = 0.0 if kpi.measure.type in ("sum", "count") and kpi.kind != "current" else None
            want = {(): (empty, 0)}
        assert set(got) == set(want), (s, by)
        for key, (value, n) in want.items():
            assert got[key][1] == n, (s, by, key)
            assert _close(got[key][0], value), (s, by, key, got[key][0], value)
        nonempty += any(n for _, n in want.values())
    assert nonempty >= SLICES_PER_KPI // 10, f"{name}: too few slices with rows to mean much"


@pytest.mark.parametrize("name", KPIS)
def test_single_days_equal_kpi_daily(name, con, service):
    """kpi_daily is generated from the same definitions: every row checked on a sample
    of its days, for the total and for each dimension value."""
    rows = con.execute(
        "select date, dimension, dimension_value, value, denominator from marts.kpi_daily"
        " where kpi = ? order by date, dimension, dimension_value",
        [name],
    ).fetchall()
    assert rows, f"kpi_daily has no rows for {name}"
    rng = random.Random(f"{name}-days")
    for day, dim, dim_value, value, _den in rng.sample(rows, k=min(len(rows), 40)):
        filters = {} if dim == "all" else {dim: (dim_value,)}
        got = service.value(name, Slice(day, day, filters))
        assert got.fact_rows > 0, (day, dim, dim_value)
        assert _close(got.value, value), (day, dim, dim_value, got.value, value)


def test_a_batch_of_kpis_equals_each_kpi_on_its_own(con, service):
    """evaluate_many (a page's cards, side by side on cursors) gives every KPI exactly what
    evaluate gives it, the reason where a filter does not apply, and one failing KPI does
    not take the others with it."""
    rng = random.Random("batch")
    values = {d: service.dimension_values(d) for d in ("channel", "node", "category")}
    first, last = service.bounds()
    for _ in range(10):
        start = first + timedelta(days=rng.randrange((last - first).days + 1))
        dim = rng.choice(list(values))
        s = Slice(start, last, {dim: (rng.choice(values[dim]),)} if rng.random() < 0.7 else {})
        batch = service.evaluate_many(KPIS, s)
        assert list(batch) == KPIS
        for name, got in batch.items():
            why = service.supports(service.kpi(name), s)
            assert got == (why if why else service.evaluate(name, s)), (name, s)
    got = service.evaluate_many(["unit_fill_rate", "no_such_kpi"], Slice())
    assert got["no_such_kpi"].startswith("could not be computed: unknown KPI")
    assert got["unit_fill_rate"] == service.evaluate("unit_fill_rate", Slice())


def test_every_kpi_column_maps_to_a_known_dimension():
    for kpi in catalog().kpis.values():
        for d in kpi.dimensions:
            alias, _ = kpi.column_for(d)
            assert alias == "f" or d in SKU_DIMENSIONS
