"""Which governed KPIs each page shows, and how a KPI's value reads (no Streamlit here).

The definitions themselves are models/kpis.yml (models.kpis.catalog()); every value
comes from the metrics service (opsledger.metrics.service)."""

from __future__ import annotations

import math

from models.kpis import Kpi, catalog

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

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥"}


def definitions() -> dict[str, Kpi]:
    return catalog().kpis


def currency_prefix(currency: str | None) -> str:
    if not currency:
        return ""
    return CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")


def format_duration_days(days: float) -> str:
    """A duration given in days, in the largest unit that reads well: 5.2 days, 7.5 h,
    12 min (never thousands of minutes)."""
    sign = "-" if days < 0 else ""
    d = abs(days)
    if d >= 1:
        return f"{sign}{d:,.1f} days"
    hours = d * 24
    if hours >= 1:
        return f"{sign}{hours:.1f} h"
    return f"{sign}{hours * 60:.0f} min"


def format_value(value: float | None, unit: str, currency: str | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "currency":
        prefix = currency_prefix(currency)
        sign = "-" if value < 0 else ""
        return f"{sign}{prefix}{abs(value):,.0f}"
    if unit == "days":
        return format_duration_days(value)
    if unit == "hours":
        return format_duration_days(value / 24)
    if unit == "minutes":
        return format_duration_days(value / 1440)
    return f"{value:,.0f}"


def target_text(kpi: Kpi, currency: str | None = None) -> str:
    if kpi.target is None:
        return "no target"
    sign = {"higher": ">=", "lower": "<="}.get(kpi.direction, "")
    return f"target {sign} {format_value(kpi.target, kpi.unit, currency)}"
