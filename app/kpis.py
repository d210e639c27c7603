"""Which governed KPIs each page shows, and how a KPI's value reads (no Streamlit here).

The definitions themselves are models/kpis.yml (models.kpis.catalog()); every value
comes from the metrics service (opsledger.metrics.service)."""

from __future__ import annotations

from opsledger.metrics.format import (  # noqa: F401  (the app's formatting is the CLI's)
    CURRENCY_SYMBOLS,
    currency_prefix,
    format_duration_days,
    format_value,
)
from opsledger.models.kpis import Kpi, catalog

# KPI cards of each page, in display order.
OVERVIEW_KPIS = (
    "unit_fill_rate",
    "order_fill_rate",
    "return_rate_units",
    "return_rate_value",
    "refund_cycle_time_days",
    "refund_cycle_time_p90_days",
    "return_to_stock_days",
    "inventory_accuracy",
    "blocked_stock_value",
    "disposition_backlog_units",
    "margin_leakage",
    "gross_margin",
    "gross_margin_rate",
    "oversold_units",
    "open_order_exceptions",
    "stock_update_latency_p95_minutes",
    "supplier_otif",
    "skus_at_replenishment_risk",
)
# The SLA breach KPIs (marts.fct_sla_breaches), a section of their own on the Overview.
SLA_KPIS = (
    "open_sla_breaches",
    "refunds_overdue",
    "exceptions_overdue",
    "dispositions_overdue",
    "latency_breach_days",
)
INVENTORY_KPIS = (
    "inventory_value",
    "blocked_stock_value",
    "disposition_backlog_units",
    "inventory_accuracy",
)
RETURNS_KPIS = (
    "return_rate_units",
    "return_rate_value",
    "refund_cycle_time_days",
    "refund_cycle_time_p90_days",
    "refund_request_to_paid_days",
    "return_to_stock_days",
    "disposition_backlog_units",
    "margin_leakage",
)
FULFILLMENT_KPIS = ("unit_fill_rate", "order_fill_rate", "oversold_units", "open_order_exceptions")
FINANCE_KPIS = ("gross_margin", "gross_margin_rate", "margin_leakage", "blocked_stock_value")
REPLENISHMENT_KPIS = ("skus_at_replenishment_risk", "supplier_otif", "supplier_lead_time_days")


def definitions() -> dict[str, Kpi]:
    return catalog().kpis


def target_text(kpi: Kpi, currency: str | None = None) -> str:
    if kpi.target is None:
        return "no target"
    sign = {"higher": ">=", "lower": "<="}.get(kpi.direction, "")
    return f"target {sign} {format_value(kpi.target, kpi.unit, currency)}"
