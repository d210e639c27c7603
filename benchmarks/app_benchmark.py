"""Time every app page's queries against a published warehouse (no Streamlit cache).

    .venv/bin/python benchmarks/app_benchmark.py --home DIR [--repeat 20]
    .venv/bin/python benchmarks/app_benchmark.py --warehouse PATH/warehouse.duckdb

Each sample is one page's full query batch on a new read-only connection through
app.warehouse.connect, as the app runs it on a Streamlit cache miss (the process keeps
the current publication's DuckDB instance open, as the app does), alternating
unfiltered and filtered (first channel, node, category, last 30 days). Prints p50 and p95 per page in milliseconds. Queries whose
mart is not built yet are counted as skipped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opsledger.app import kpis  # noqa: E402
from opsledger.app.filters import Filters  # noqa: E402
from opsledger.app.queries import (  # noqa: E402
    catalog,
    common,
    finance,
    inventory,
    overview,
    quality,
    replenishment,
    returns,
)
from opsledger.app.warehouse import NotBuilt, connect  # noqa: E402
from opsledger.metrics.service import MetricsService  # noqa: E402

Query = Callable[[Any, Filters], Any]


def page_queries() -> dict[str, list[Query]]:
    """Each page's query batch on first render, as app/views/*.py load them (default
    radio choices): KPI cards and breakdowns through the metrics service (a KPI the
    slice does not apply to costs nothing), the other tables through app/queries."""

    def kpis_q(keys: tuple[str, ...], by: tuple[str, ...] = ()) -> Query:
        def run(c: Any, f: Filters) -> None:
            service = MetricsService(c)
            s = f.to_slice()
            if not by:  # a page's cards and their cost coverage, as components/kpi_cards
                service.evaluate_many(keys + kpis.coverage_kpis(keys), s)
                return
            for k in keys:
                if service.supports(service.kpi(k), s, by) is None:
                    service.evaluate(k, s, by)

        run.__name__ = f"kpis{'_by_' + '_'.join(by) if by else ''}"
        return run

    return {
        "overview": [
            kpis_q(kpis.OVERVIEW_KPIS),
            kpis_q(("unit_fill_rate",), ("week",)),
            kpis_q(("unit_fill_rate",), ("channel",)),
            kpis_q(kpis.SLA_KPIS),
            overview.open_sla_breaches,
            overview.late_shipments,
            overview.node_freshness,
            lambda c, f: overview.last_gate(c),
        ],
        "inventory": [
            inventory.stock_by_state,
            kpis_q(kpis.INVENTORY_KPIS),
            kpis_q(("inventory_value",), ("state",)),
            kpis_q(("blocked_stock_value",), ("state", "node")),
            kpis_q(("inventory_value",), ("week",)),
            kpis_q(("inventory_value", "inventory_accuracy"), ("node",)),
            inventory.available_to_sell,
            inventory.stock_by_channel,
            inventory.aging,
            inventory.top_skus,
            lambda c, f: inventory.sku_profile(c, _first_sku(c)),
            lambda c, f: inventory.sku_daily(c, f, _first_sku(c)),
            lambda c, f: inventory.sku_movements(c, f, _first_sku(c)),
        ],
        "returns": [
            kpis_q(kpis.RETURNS_KPIS),
            kpis_q(("return_rate_units",), ("category",)),
            kpis_q(("refund_cycle_time_days",), ("channel",)),
            kpis_q(("disposition_backlog_units",), ("state", "node")),
            returns.funnel,
            returns.recovery,
            returns.by_reason,
        ],
        "fulfillment": [
            kpis_q(kpis.FULFILLMENT_KPIS),
            kpis_q(("unit_fill_rate",), ("channel",)),
            kpis_q(("unit_fill_rate", "oversold_units"), ("week",)),
            kpis_q(("open_order_exceptions",), ("channel",)),
            overview.node_freshness,
        ],
        "finance": [
            kpis_q(kpis.FINANCE_KPIS),
            kpis_q(("gross_margin",), ("channel",)),
            finance.margin_leakage,
            finance.return_liabilities,
            finance.stock_gl_tieout,
            finance.gl_by_account,
        ],
        "replenishment": [
            kpis_q(kpis.REPLENISHMENT_KPIS),
            kpis_q(("skus_at_replenishment_risk",), ("category",)),
            kpis_q(("supplier_otif",), ("supplier",)),
            replenishment.at_risk,
        ],
        "quality": [
            lambda c, f: quality.gate_results(c),
            lambda c, f: quality.publications(c),
            overview.node_freshness,
            lambda c, f: quality.quarantine_summary(c),
            lambda c, f: quality.ingest_files(c),
        ],
        "workbench": [
            lambda c, f: catalog.tables(c),
            lambda c, f: catalog.table_columns(c, "marts", "fct_order_lines"),
        ],
    }


def _first_sku(con: Any) -> str:
    row = con.execute("select min(sku) from marts.dim_sku").fetchone()
    return str(row[0]) if row and row[0] else ""


def filtered(path: Path) -> Filters:
    with connect(path) as con:
        opts = common.filter_options(con)
    end = opts["dates"][1] if opts["dates"] else None
    return Filters(
        start=end - timedelta(days=30) if end else None,
        end=end,
        channels=tuple(opts["channels"][:1]),
        nodes=tuple(opts["nodes"][:1]),
        categories=tuple(opts["categories"][:1]),
    )


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, help="opsledger home (uses <home>/warehouse.duckdb)")
    parser.add_argument("--warehouse", type=Path, help="path of a warehouse file")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--slowest", type=int, default=0, help="also list the N slowest queries (median ms)"
    )
    args = parser.parse_args(argv)
    path = args.warehouse or ((args.home or Path("data")) / "warehouse.duckdb")
    if not path.exists():
        print(f"no warehouse at {path}; run `opsledger refresh` first", file=sys.stderr)
        return 2
    variants = [Filters(), filtered(path)]
    print(f"warehouse {path} ({path.stat().st_size / 1e6:.1f} MB), {args.repeat} samples/page")
    print(f"{'page':<14}{'queries':>8}{'skipped':>8}{'p50 ms':>10}{'p95 ms':>10}")
    per_query: dict[str, list[float]] = {}
    for name, queries in page_queries().items():
        samples: list[float] = []
        skipped: set[int] = set()
        for i in range(args.repeat):
            f = variants[i % 2]
            started = time.perf_counter()
            with connect(path) as con:
                for n, q in enumerate(queries):
                    q_started = time.perf_counter()
                    try:
                        q(con, f)
                    except NotBuilt:
                        skipped.add(n)
                    label = f"{name}[{n}] {getattr(q, '__name__', 'query')}"
                    per_query.setdefault(label, []).append((time.perf_counter() - q_started) * 1000)
            samples.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:<14}{len(queries):>8}{len(skipped):>8}"
            f"{statistics.median(samples):>10.1f}{pct(samples, 0.95):>10.1f}"
        )
    if args.slowest:
        print("slowest queries (median ms, p95 ms)")
        ranked = sorted(per_query.items(), key=lambda kv: -statistics.median(kv[1]))
        for label, times in ranked[: args.slowest]:
            print(f"  {label:<48}{statistics.median(times):>8.1f}{pct(times, 0.95):>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
