"""Governed KPI definitions: models/kpis.yml, or the warehouse's domain.domain_kpis seed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import yaml

KPIS_YML = Path(__file__).resolve().parents[1] / "models" / "kpis.yml"

# How a KPI's daily rows combine over a date range and several dimension values.
SNAPSHOT_KPIS = {
    "disposition_backlog_units",
    "blocked_stock_value",
    "inventory_value",
    "open_order_exceptions",
    "skus_at_replenishment_risk",
}

# KPI cards of the Returns and Finance pages, in display order.
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
FINANCE_KPIS = ("gross_margin", "gross_margin_rate", "margin_leakage", "blocked_stock_value")

# The executive overview (BRIEF section 1 and 6), in display order.
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


@dataclass(frozen=True)
class Kpi:
    kpi: str
    name: str
    definition: str
    unit: str
    direction: str
    target: float | None
    dimensions: tuple[str, ...]

    @property
    def aggregation(self) -> str:
        """ratio: sum(numerator)/sum(denominator); snapshot: last day; mean: weighted
        mean of daily values (percentiles); sum: total over the range."""
        if self.kpi in SNAPSHOT_KPIS:
            return "snapshot"
        if self.unit == "ratio":
            return "ratio"
        if self.unit in ("days", "minutes", "hours"):
            return "mean"
        return "sum"

    def status(self, value: float | None) -> str | None:
        """'ok' / 'off' against the target, None without a target or value."""
        if value is None or self.target is None:
            return None
        if self.direction == "higher":
            return "ok" if value >= self.target else "off"
        if self.direction == "lower":
            return "ok" if value <= self.target else "off"
        return None

    def fmt(self, value: float | None) -> str:
        return format_value(value, self.unit)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "currency":
        return f"{value:,.0f}"
    if unit in ("days", "hours", "minutes"):
        return f"{value:,.1f} {unit}"
    return f"{value:,.0f}"


@lru_cache(maxsize=1)
def from_yaml(path: Path = KPIS_YML) -> dict[str, Kpi]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = {}
    for key, spec in data["kpis"].items():
        out[key] = Kpi(
            kpi=key,
            name=spec["name"],
            definition=spec["definition"].strip(),
            unit=spec["unit"],
            direction=spec.get("direction", "neutral"),
            target=spec.get("target"),
            dimensions=tuple(spec.get("dimensions", [])),
        )
    return out


def from_warehouse(con: duckdb.DuckDBPyConnection) -> dict[str, Kpi]:
    """The seed dbt exported (domain.domain_kpis); falls back to kpis.yml."""
    try:
        rows = con.execute(
            "select kpi, kpi_name, definition, unit, direction, target, dimensions "
            "from domain.domain_kpis"
        ).fetchall()
    except duckdb.Error:
        return from_yaml()
    if not rows:
        return from_yaml()
    out = {}
    for kpi, name, definition, unit, direction, target, dims in rows:
        out[kpi] = Kpi(
            kpi=kpi,
            name=name,
            definition=definition,
            unit=unit,
            direction=direction or "neutral",
            target=float(target) if target not in (None, "") else None,
            dimensions=tuple(d for d in str(dims or "").split("|") if d),
        )
    return out
