"""Drill-through on a warehouse dbt built (generate 0.02 + refresh, tests/app/conftest):
the rows a drill shows are the rows the metrics service counts, the movements of a stock
row add up to it, and every event names its source file, line and batch."""

from __future__ import annotations

import statistics
from datetime import date
from pathlib import Path

import pytest

from opsledger.core.readonly import connect_read_only
from opsledger.metrics import drill
from opsledger.metrics.service import MetricsError, MetricsService, Slice
from opsledger.models.kpis import GRAINS, catalog

BIG = 1_000_000


@pytest.fixture(scope="module")
def con(real_home: Path):
    c = connect_read_only(real_home / "warehouse.duckdb")
    yield c
    c.close()


@pytest.fixture(scope="module")
def svc(con) -> MetricsService:
    return MetricsService(con)


def _recompute(kpi, frame) -> float | None:
    """The KPI's value from the drilled rows, by its definition (no SQL)."""
    m = kpi.measure
    if frame.height == 0:
        return None
    if m.type == "ratio":
        den = float(frame["kpi_denominator"].cast(float).sum())
        num = float(frame["kpi_numerator"].cast(float).sum())
        return num / den if den > 0 else None
    if m.type == "count":
        return float(frame.height)
    values = [float(v) for v in frame["kpi_measure"].to_list() if v is not None]
    div = m.divisor or 1.0
    if m.type == "sum":
        return sum(values) / div
    if m.type == "mean":
        return statistics.fmean(values) / div
    if m.type == "stdev":
        return statistics.stdev(values) / div if len(values) > 1 else None
    q = statistics.quantiles(values, n=1000, method="inclusive") if len(values) > 1 else values
    return q[round(m.p * 1000) - 1] / div if len(values) > 1 else values[0] / div


def _slice(svc: MetricsService) -> Slice:
    first, last = svc.bounds()
    assert first and last
    return Slice(start=date(last.year, 1, 1) if last.month > 3 else first, end=last)


@pytest.mark.parametrize("name", sorted(catalog().kpis))
def test_drilled_rows_recompute_the_value(con, svc: MetricsService, name: str) -> None:
    kpi = svc.kpi(name)
    s = _slice(svc)
    by = next((d for d in ("channel", "node", "category") if d in kpi.dimensions), None)
    groups = svc.evaluate(name, s, by=(by,) if by else ())
    assert groups, f"{name} has no value on the test warehouse"
    for v in groups[:3]:
        group = {by: v.group[0]} if by else {}
        rows = drill.fact_rows(con, name, s, group, limit=BIG, service=svc)
        assert rows.total == v.fact_rows == rows.frame.height
        got = _recompute(kpi, rows.frame)
        if v.value is None:
            assert got is None or kpi.kind == "current"
        else:
            assert got == pytest.approx(v.value, rel=1e-6, abs=1e-9), (name, group)


@pytest.mark.parametrize("name", ["unit_fill_rate", "disposition_backlog_units", "oversold_units"])
def test_period_group_drills_to_its_rows(con, svc: MetricsService, name: str) -> None:
    s = _slice(svc)
    for v in svc.evaluate(name, s, by=("month",))[-2:]:
        rows = drill.fact_rows(con, name, s, {"month": v.group[0]}, limit=BIG, service=svc)
        assert rows.total == v.fact_rows
        assert _recompute(svc.kpi(name), rows.frame) == pytest.approx(v.value or 0.0)


def test_numerator_and_denominator_rows(con, svc: MetricsService) -> None:
    s = _slice(svc)
    v = svc.value("unit_fill_rate", s)
    num = drill.fact_rows(con, "unit_fill_rate", s, part="numerator", limit=BIG, service=svc)
    den = drill.fact_rows(con, "unit_fill_rate", s, part="denominator", limit=BIG, service=svc)
    assert float(num.frame["kpi_numerator"].sum()) == v.numerator
    assert float(den.frame["kpi_denominator"].sum()) == v.denominator
    assert (num.frame["qty_shipped_on_time"] > 0).all()
    assert 0 < num.total <= den.total <= v.fact_rows


def test_limit_keeps_the_total(con, svc: MetricsService) -> None:
    s = _slice(svc)
    rows = drill.fact_rows(con, "oversold_units", s, part="all", limit=3, service=svc)
    assert rows.frame.height <= 3
    every = drill.fact_rows(con, "oversold_units", s, limit=BIG, service=svc)
    assert rows.total == every.total
    assert rows.truncated == (every.total > 3)


def test_filter_values_are_parameters(con, svc: MetricsService) -> None:
    evil = Slice(filters={"channel": ("web') or 1=1 --",)})
    assert drill.fact_rows(con, "unit_fill_rate", evil, service=svc).total == 0
    with pytest.raises(MetricsError):
        drill.fact_rows(con, "order_fill_rate", Slice(filters={"node": ("x",)}), service=svc)


def test_stock_row_drills_to_the_movements_that_make_it(con, svc: MetricsService) -> None:
    kpi = svc.kpi("blocked_stock_value")
    rows = drill.fact_rows(con, "blocked_stock_value", Slice(), limit=40, service=svc)
    assert rows.total > 0
    for row in rows.frame.iter_rows(named=True):
        moves = drill.movements(con, kpi.fact, row, limit=BIG)
        assert moves.total > 0
        # the ledger: movements in minus out up to the day is the day's quantity
        assert int(moves.frame["signed_quantity"].sum()) == row["quantity"]
        assert int(moves.frame["balance"][-1]) == row["quantity"]
        ev = drill.events(con, kpi.fact, row, limit=BIG)
        assert set(moves.frame["event_id"]) <= set(ev.frame["event_id"])


def test_events_name_their_source_file_line_and_batch(con, svc: MetricsService) -> None:
    s = _slice(svc)
    for name in ("unit_fill_rate", "refund_cycle_time_p90_days", "inventory_accuracy"):
        kpi = svc.kpi(name)
        rows = drill.fact_rows(con, name, s, limit=5, service=svc)
        assert rows.frame.height > 0, name
        for row in rows.frame.iter_rows(named=True):
            ev = drill.events(con, kpi.fact, row)
            assert ev.total > 0, (name, drill.fact_row_key(kpi.fact, row))
            for col in ("event_id", "event_type", "event_time", "source_file", "line_number"):
                assert ev.frame[col].null_count() == 0, col
            assert ev.frame["batch_id"].null_count() == 0
    # an order line's events include the order_placed event of that line
    row = drill.fact_rows(con, "unit_fill_rate", s, limit=1, service=svc).frame.row(0, named=True)
    ev = drill.events(con, svc.kpi("unit_fill_rate").fact, row)
    placed = ev.frame.filter(ev.frame["event_type"] == "order_placed")
    assert placed.height >= 1
    (line,) = con.execute(
        "select order_line_id from raw.orders_events where event_id = ?",
        [placed["event_id"][0]],
    ).fetchone()
    assert line == row["order_line_id"]


def test_grains_are_the_services() -> None:
    assert set(GRAINS) == {"day", "week", "month"}
