"""Helpers shared by the order, return and procurement integration tests."""

from __future__ import annotations

import json
from pathlib import Path

ORDER_MODELS = (
    "int_events_as_of_summarised",
    "int_order_lines_cancellations_applied",
    "int_order_lines_fulfilment_aggregated",
    "int_order_lines_availability_checked",
    "fct_order_lines",
    "fct_orders",
    "fct_order_exceptions",
    "fct_order_fill_daily",
)
RETURN_MODELS = (
    "int_return_lines_pivoted",
    "int_return_lines_money_attributed",
    "fct_return_lines",
    "fct_return_rate_cohorts",
    "fct_disposition_backlog",
)
PROCUREMENT_MODELS = (
    "int_po_lines_receipts_aggregated",
    "fct_po_lines",
    "fct_supplier_performance",
)


def failures_of(result, models: tuple[str, ...], prefixes: tuple[str, ...]) -> list[dict]:
    """dbt nodes (models, data and unit tests) of a domain that failed or errored."""

    def mine(name: str) -> bool:
        return any(model in name for model in models) or name.startswith(prefixes)

    return [
        {"name": r["name"], "status": r["status"], "message": r.get("message")}
        for r in result.dbt.failures
        if mine(r["name"])
    ]


def ground_truth(home: Path) -> dict:
    return json.loads((home / "ground_truth" / "totals.json").read_text())


def open_build_db(home: Path):
    import duckdb

    # opsledger.dbt_project.run_dbt releases dbt-duckdb's handle after each build
    return duckdb.connect(str(home / "build.duckdb"), read_only=True)
