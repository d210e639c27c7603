"""`opsledger kpi`: a governed KPI for a slice, as a JSON-ready report or a table.

Validation lives here so that every caller of the command line gets the same
clear errors: an unknown KPI, dimension or filter value names what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from opsledger.metrics.service import (
    MetricsError,
    MetricsService,
    Slice,
    group_columns,
    merchant_currency,
)
from opsledger.models.kpis import GRAINS, Kpi

UNITS = {
    "ratio": "share (0-1)",
    "days": "days",
    "minutes": "minutes",
    "units": "units",
    "lines": "order lines",
    "skus": "SKUs",
    "breaches": "SLA breaches",
    "currency": "currency",
}


@dataclass(frozen=True)
class KpiRequest:
    kpi: str
    start: date | None = None
    end: date | None = None
    filters: dict[str, tuple[str, ...]] | None = None
    by: tuple[str, ...] = ()


def parse_by(values: list[str] | None) -> tuple[str, ...]:
    """--by channel --by month, or --by channel,month."""
    out: list[str] = []
    for v in values or []:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return tuple(out)


def check_request(service: MetricsService, req: KpiRequest) -> tuple[Kpi, Slice]:
    kpi = service.kpi(req.kpi)
    if req.start and req.end and req.start > req.end:
        raise MetricsError(f"--from {req.start} is after --to {req.end}")
    filters = {d: v for d, v in (req.filters or {}).items() if v}
    for dim, values in filters.items():
        allowed = service.dimension_values(dim)
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise MetricsError(
                f"unknown {dim} {', '.join(map(repr, unknown))}; {dim} values: {', '.join(allowed)}"
            )
    for b in req.by:
        if b not in GRAINS and b not in kpi.dimensions:
            raise MetricsError(
                f"cannot group {kpi.kpi} by {b!r}; allowed: {', '.join((*kpi.dimensions, *GRAINS))}"
            )
    s = Slice(req.start, req.end, filters)
    service.check(kpi, s, req.by)
    return kpi, s


def kpi_report(service: MetricsService, req: KpiRequest) -> dict[str, Any]:
    """The KPI's value(s) with numerator, denominator and fact rows behind each."""
    kpi, s = check_request(service, req)
    groups = group_columns(req.by)
    values = service.evaluate(kpi.kpi, s, req.by)
    first, last = service.bounds()
    return {
        "kpi": kpi.kpi,
        "name": kpi.name,
        "definition": kpi.definition,
        "unit": kpi.unit,
        "currency": merchant_currency(service.con) if kpi.unit == "currency" else None,
        "kind": kpi.kind,
        "measure": kpi.measure.type,
        "fact": f"marts.{kpi.fact.model}",
        "slice": {
            "from": s.start,
            "to": s.end,
            "filters": {d: list(v) for d, v in s.active().items()},
            "by": list(req.by),
            "data_from": first,
            "data_to": last,
        },
        "values": [
            {
                "group": dict(zip(groups, v.group, strict=True)),
                "value": v.value,
                "numerator": v.numerator,
                "denominator": v.denominator,
                "fact_rows": v.fact_rows,
            }
            for v in values
        ],
    }


def kpi_catalog(service: MetricsService) -> list[dict[str, Any]]:
    return [
        {
            "kpi": k.kpi,
            "name": k.name,
            "unit": k.unit,
            "kind": k.kind,
            "measure": k.measure.type,
            "fact": f"marts.{k.fact.model}",
            "time": k.time,
            "dimensions": list(k.dimensions),
            "target": k.target,
            "definition": k.definition,
        }
        for k in service.catalog.kpis.values()
    ]
