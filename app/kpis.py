"""Which governed KPIs each page shows, and how a KPI's value reads (no Streamlit here).

The definitions themselves are models/kpis.yml (models.kpis.catalog()); every value
comes from the metrics service (opsledger.metrics.service)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Coverage:
    """The cost coverage a money KPI is computed over (models/kpis.yml): shown beside
    its value on every card, since a missing cost is unknown, not zero."""

    coverage: str  # the KPI of the share whose cost is known or assumed
    assumed: str | None  # the KPI of the share of that whose cost is an assumption
    of: str  # what the shares are of


COVERAGE: dict[str, Coverage] = {
    "inventory_value": Coverage(
        "inventory_cost_coverage", "inventory_cost_assumed_share", "on-hand units"
    ),
    "blocked_stock_value": Coverage("blocked_stock_cost_coverage", None, "blocked units"),
    "gross_margin": Coverage("margin_cost_coverage", "margin_cost_assumed_share", "net revenue"),
    "gross_margin_rate": Coverage(
        "margin_cost_coverage", "margin_cost_assumed_share", "net revenue"
    ),
}


def coverage_kpis(kpis: tuple[str, ...]) -> tuple[str, ...]:
    """The coverage KPIs the cards of `kpis` show beside their values."""
    out: list[str] = []
    for k in kpis:
        c = COVERAGE.get(k)
        for name in (c.coverage, c.assumed) if c else ():
            if name and name not in out and name not in kpis:
                out.append(name)
    return tuple(out)


def card_value(kpi: Kpi, value: float | None, currency: str | None = None) -> str:
    """A card's value: a money KPI computed over known costs reads "unknown" when no
    cost is known (its value is undefined), never a made-up 0."""
    if value is None and kpi.kpi in COVERAGE:
        return "unknown"
    return format_value(value, kpi.unit, currency)


def coverage_note(kpi: str, coverage: float | None, assumed: float | None = None) -> str | None:
    """What a money KPI's card says about its cost coverage; None for other KPIs."""
    c = COVERAGE.get(kpi)
    if c is None:
        return None
    if coverage is None:
        return f"cost coverage: no {c.of}"
    note = f"cost known or assumed for {format_value(coverage, 'ratio')} of {c.of}"
    if coverage == 0:
        return note + ": the value is unknown"
    if assumed:
        note += f" ({format_value(assumed, 'ratio')} assumed: an estimate)"
    return note


def definitions() -> dict[str, Kpi]:
    return catalog().kpis


def target_text(kpi: Kpi, currency: str | None = None) -> str:
    if kpi.target is None:
        return "no target"
    sign = {"higher": ">=", "lower": "<="}.get(kpi.direction, "")
    return f"target {sign} {format_value(kpi.target, kpi.unit, currency)}"
