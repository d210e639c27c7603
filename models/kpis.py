"""Typed access to `kpis.yml`: the governed KPI definitions and the facts they measure."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from opsledger.models.domain import load_yaml

KPIS_FILE = Path(__file__).with_name("kpis.yml")

# Dimensions a fact with a `sku` column takes from dim_sku (column of dim_sku).
SKU_DIMENSIONS: dict[str, str] = {
    "category": "category",
    "product_class": "product_class",
    "supplier": "supplier_id",
}
KINDS = ("flow", "snapshot", "open_items", "current")
MEASURES = ("ratio", "sum", "count", "quantile", "mean", "stdev")
GRAINS = ("day", "week", "month")


class KpiDefinitionError(ValueError):
    """kpis.yml breaks its own rules (a programming error, caught by the tests)."""


@dataclass(frozen=True)
class Fact:
    name: str
    model: str
    grain: str
    key: tuple[str, ...]
    sku: str | None
    dimensions: dict[str, str]
    events: dict[str, dict[str, str]] = field(default_factory=dict)
    movements: dict[str, str] | None = None

    @property
    def relation(self) -> str:
        return f"marts.{self.model}"


@dataclass(frozen=True)
class Measure:
    type: str
    numerator: str | None = None
    denominator: str | None = None
    expr: str | None = None
    p: float | None = None
    divisor: float | None = None
    known_only: bool = False  # sum: unknown (null) rows left out; undefined when none known


@dataclass(frozen=True)
class Kpi:
    kpi: str
    name: str
    definition: str
    unit: str
    direction: str
    target: float | None
    bounded: bool
    fact: Fact
    time: str
    kind: str
    measure: Measure
    where: str | None
    closed: str | None
    dimensions: tuple[str, ...]
    dimension_columns: dict[str, str] = field(default_factory=dict)

    def column_for(self, dimension: str) -> tuple[str, str]:
        """(table alias, column) of a dimension: 'f' for the fact, 's' for dim_sku."""
        if dimension in self.dimension_columns:
            return "f", self.dimension_columns[dimension]
        if dimension in self.fact.dimensions:
            return "f", self.fact.dimensions[dimension]
        if self.fact.sku and dimension in SKU_DIMENSIONS:
            return "s", SKU_DIMENSIONS[dimension]
        raise KpiDefinitionError(f"{self.kpi}: fact {self.fact.name} has no {dimension}")

    @property
    def is_snapshot(self) -> bool:
        return self.kind != "flow"

    @property
    def aggregation(self) -> str:
        """How kpi_daily's `aggregation` column describes it (its contract)."""
        if self.is_snapshot:
            return "snapshot"
        if self.measure.type == "ratio":
            return "ratio"
        if self.measure.type in ("sum", "count"):
            return "sum"
        return "statistic"

    def status(self, value: float | None) -> str | None:
        """'ok' / 'off' against the target, None without a target or value."""
        if value is None or self.target is None:
            return None
        if self.direction == "higher":
            return "ok" if value >= self.target else "off"
        if self.direction == "lower":
            return "ok" if value <= self.target else "off"
        return None


@dataclass(frozen=True)
class Catalog:
    facts: dict[str, Fact]
    kpis: dict[str, Kpi]

    def get(self, name: str) -> Kpi:
        if name not in self.kpis:
            raise KeyError(name)
        return self.kpis[name]


def _fact(name: str, spec: dict) -> Fact:
    return Fact(
        name=name,
        model=spec["model"],
        grain=spec["grain"],
        key=tuple(spec["key"]),
        sku=spec.get("sku"),
        dimensions=dict(spec.get("dimensions", {})),
        events={table: dict(m) for table, m in (spec.get("events") or {}).items()},
        movements=spec.get("movements"),
    )


def _kpi(name: str, spec: dict, facts: dict[str, Fact]) -> Kpi:
    if spec["fact"] not in facts:
        raise KpiDefinitionError(f"{name}: unknown fact {spec['fact']}")
    measure = Measure(**spec["measure"])
    kpi = Kpi(
        kpi=name,
        name=spec["name"],
        definition=" ".join(spec["definition"].split()),
        unit=spec["unit"],
        direction=spec.get("direction", "neutral"),
        target=spec.get("target"),
        bounded=bool(spec.get("bounded", spec["unit"] == "ratio")),
        fact=facts[spec["fact"]],
        time=spec["time"],
        kind=spec["kind"],
        measure=measure,
        where=spec.get("where"),
        closed=spec.get("closed"),
        dimensions=tuple(spec.get("dimensions", [])),
        dimension_columns=dict(spec.get("dimension_columns", {})),
    )
    _check(kpi)
    return kpi


def _check(kpi: Kpi) -> None:
    m = kpi.measure
    if kpi.kind not in KINDS:
        raise KpiDefinitionError(f"{kpi.kpi}: kind {kpi.kind} not in {KINDS}")
    if m.type not in MEASURES:
        raise KpiDefinitionError(f"{kpi.kpi}: measure {m.type} not in {MEASURES}")
    if m.type == "ratio" and not (m.numerator and m.denominator):
        raise KpiDefinitionError(f"{kpi.kpi}: a ratio needs numerator and denominator")
    if m.type in ("sum", "quantile", "mean", "stdev") and not m.expr:
        raise KpiDefinitionError(f"{kpi.kpi}: a {m.type} needs expr")
    if m.known_only and m.type != "sum":
        raise KpiDefinitionError(f"{kpi.kpi}: known_only applies to a sum")
    if m.type == "quantile" and not (m.p and 0 < m.p < 1):
        raise KpiDefinitionError(f"{kpi.kpi}: a quantile needs 0 < p < 1")
    if kpi.kind == "open_items" and not kpi.closed:
        raise KpiDefinitionError(f"{kpi.kpi}: open_items needs a closed column")
    for dimension in kpi.dimensions:
        kpi.column_for(dimension)


def load_catalog(path: Path = KPIS_FILE) -> Catalog:
    data = load_yaml(path.read_text(encoding="utf-8"))
    facts = {name: _fact(name, spec) for name, spec in data["facts"].items()}
    kpis = {name: _kpi(name, spec, facts) for name, spec in data["kpis"].items()}
    return Catalog(facts=facts, kpis=kpis)


@cache
def catalog() -> Catalog:
    """The definitions of the checked-out kpis.yml, loaded once per process."""
    return load_catalog()


def all_dimensions() -> tuple[str, ...]:
    """Every dimension some KPI may be sliced by, in a stable display order."""
    order = ("channel", "node", "category", "product_class", "supplier", "state")
    used = {d for k in catalog().kpis.values() for d in k.dimensions}
    return tuple(d for d in order if d in used) + tuple(sorted(used - set(order)))
