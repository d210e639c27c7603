"""Time the metrics service: each dashboard's KPI batch under random filter
combinations, and `opsledger kpi` for a full-year distribution KPI.

    .venv/bin/python -m benchmarks.metrics_benchmark --home DIR [--samples 40]

A page batch is what a dashboard asks the service for on a cache miss: every KPI
card of the page for the slice, a weekly trend of its first KPI and its first KPI
by one dimension. Slices are random: a date range (or none), 0-3 filters the KPIs
allow (channel, node, category, product class, supplier). Printed beside the plain
DuckDB floor: one `count(*)` over each fact the batch reads, on the same connection.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from opsledger.app import kpis as app_kpis
from opsledger.core.readonly import connect_read_only
from opsledger.metrics.service import MetricsService, Slice

# the cards each dashboard shows (the app's own lists)
PAGES: dict[str, tuple[str, ...]] = {
    "overview": app_kpis.OVERVIEW_KPIS + app_kpis.SLA_KPIS,
    "inventory": app_kpis.INVENTORY_KPIS,
    "returns": app_kpis.RETURNS_KPIS,
    "fulfillment": app_kpis.FULFILLMENT_KPIS,
    "finance": app_kpis.FINANCE_KPIS,
    "replenishment": app_kpis.REPLENISHMENT_KPIS,
}
FILTER_DIMENSIONS = ("channel", "node", "category", "product_class", "supplier")


def random_slice(rng: random.Random, service: MetricsService) -> Slice:
    _, last = service.bounds()
    start = end = None
    if rng.random() < 0.7:
        days = rng.choice((7, 30, 90, 365))
        end = last - timedelta(days=rng.randrange(60))
        start = end - timedelta(days=days)
    filters = {}
    for dim in rng.sample(FILTER_DIMENSIONS, k=rng.randrange(4)):
        values = service.dimension_values(dim)
        filters[dim] = tuple(rng.sample(values, k=min(len(values), rng.randrange(1, 3))))
    return Slice(start, end, filters)


def page_batch(service: MetricsService, kpis: tuple[str, ...], s: Slice) -> int:
    """One page's service calls; returns the number of queries run."""
    queries = 0
    for name in kpis:
        kpi = service.kpi(name)
        applicable = Slice(
            s.start, s.end, {d: v for d, v in s.filters.items() if d in kpi.dimensions}
        )
        service.value(name, applicable)
        queries += 1
    lead = service.kpi(kpis[0])
    lead_slice = Slice(s.start, s.end, {d: v for d, v in s.filters.items() if d in lead.dimensions})
    service.evaluate(lead.kpi, lead_slice, ("week",))
    if lead.dimensions:
        service.evaluate(lead.kpi, lead_slice, (lead.dimensions[0],))
    return queries + 2


def floor_ms(
    con: duckdb.DuckDBPyConnection, service: MetricsService, kpis: tuple[str, ...]
) -> float:
    facts = {service.kpi(k).fact.model for k in kpis}
    t = time.perf_counter()
    for model in facts:
        con.execute(f"select count(*) from marts.{model}").fetchall()
    return (time.perf_counter() - t) * 1000


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    con = connect_read_only(args.home / "warehouse.duckdb")
    service = MetricsService(con)
    rng = random.Random(args.seed)
    events = con.execute("select count(*) from marts.fct_stock_movements").fetchone()[0]
    print(f"warehouse {args.home} ({events:,} stock movements)")
    print(f"{'page':14s} {'queries':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'floor ms':>9s}")
    for page, kpis in PAGES.items():
        page_batch(service, kpis, Slice())  # warm the instance's buffers once
        times, floors, n = [], [], 0
        for _ in range(args.samples):
            s = random_slice(rng, service)
            t = time.perf_counter()
            n = page_batch(service, kpis, s)
            times.append((time.perf_counter() - t) * 1000)
            floors.append(floor_ms(con, service, kpis))
        print(
            f"{page:14s} {n:7d} {statistics.median(times):8.0f} {pct(times, 0.95):8.0f}"
            f" {statistics.median(floors):9.1f}"
        )
    con.close()
    kpi = "refund_cycle_time_p90_days"
    cli = [sys.executable, "-m", "opsledger.cli", "kpi", kpi, "--home", str(args.home), "--json"]
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
    con = connect_read_only(args.home / "warehouse.duckdb")
    t = time.perf_counter()
    MetricsService(con).value(kpi)
    query_s = time.perf_counter() - t
    t = time.perf_counter()
    con.execute(
        "select quantile_cont(days_received_to_refunded, 0.9) from marts.fct_return_lines"
    ).fetchall()
    floor_s = time.perf_counter() - t
    con.close()
    print(
        f"opsledger kpi {kpi} (full range): process {min(walls):.2f} s (best of 3),"
        f" service query {query_s * 1000:.0f} ms, plain DuckDB quantile {floor_s * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
