"""Typed access to `domain.yml`, the single definition every layer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

# libyaml's loader when PyYAML has it: the pure-Python one takes ~0.2 s for the
# domain model and the KPI definitions, which every `opsledger` command reads.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> object:
    """yaml.safe_load, through libyaml when available."""
    return yaml.load(text, Loader=SafeLoader)


DOMAIN_FILE = Path(__file__).with_name("domain.yml")

# DuckDB column types of the raw layer, per domain field type.
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(18,4)",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "bool": "BOOLEAN",
    "list": "VARCHAR",
}

COMMON_FIELDS: tuple[str, ...] = ("event_id", "event_type", "event_time", "source")
# optional on every event type; the last columns of every source's raw table
COMMON_OPTIONAL_FIELDS: tuple[str, ...] = ("recorded_at",)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    description: str
    unit: str | None = None
    constraint: str | None = None  # positive | non_negative
    enum: str | None = None  # name of a list in the domain model
    ref: str | None = None  # sku | node | channel | supplier (master data)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Transition:
    event_type: str
    from_state: str
    to_state: str
    default: bool = False
    disposition: str | None = None


@dataclass(frozen=True)
class EventType:
    name: str
    source: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    moves: bool = False
    reason_code_kind: str | None = None
    defines: str | None = None  # master data: the ref kind this event introduces

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    format: str
    event_types: tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    raw: dict = field(repr=False)
    fields: dict[str, FieldSpec]
    sources: dict[str, Source]
    event_types: dict[str, EventType]
    transitions: tuple[Transition, ...]

    # -- states -----------------------------------------------------------
    @property
    def internal_states(self) -> tuple[str, ...]:
        return tuple(self.raw["states"]["internal"])

    @property
    def external_states(self) -> tuple[str, ...]:
        return tuple(self.raw["states"]["external"])

    @property
    def states(self) -> tuple[str, ...]:
        return self.internal_states + self.external_states

    @property
    def blocked_states(self) -> tuple[str, ...]:
        internal = self.raw["states"]["internal"]
        return tuple(s for s, spec in internal.items() if spec["blocked"])

    # -- rules ------------------------------------------------------------
    @property
    def dispositions(self) -> tuple[str, ...]:
        return tuple(self.raw["dispositions"])

    @property
    def product_classes(self) -> tuple[str, ...]:
        return tuple(self.raw["product_classes"])

    def allowed_dispositions(self, product_class: str) -> tuple[str, ...]:
        return tuple(self.raw["product_classes"][product_class]["dispositions"])

    def reason_codes(self, kind: str) -> tuple[str, ...]:
        return tuple(self.raw["reason_codes"][kind])

    @property
    def thresholds(self) -> dict[str, float | int]:
        return dict(self.raw["thresholds"])

    def max_value(self, field: str) -> int | float | None:
        """The largest value one event may carry in `field` (by its unit), if bounded."""
        unit = self.fields[field].unit
        return self.raw.get("max_per_event", {}).get(unit) if unit else None

    @property
    def roles(self) -> dict[str, dict]:
        return dict(self.raw["roles"])

    @property
    def node_types(self) -> dict[str, dict]:
        return dict(self.raw["node_types"])

    def enum_values(self, enum: str) -> tuple[str, ...]:
        """Values of a named list (states, currencies, dispositions, ...)."""
        if enum == "states":
            return self.states
        value = self.raw[enum]
        return tuple(value)  # a mapping yields its keys

    # -- events -----------------------------------------------------------
    def source_fields(self, source: str) -> tuple[str, ...]:
        """Columns of a source's raw table: common fields, then the union of its types'."""
        seen: dict[str, None] = dict.fromkeys(COMMON_FIELDS)
        for name in self.sources[source].event_types:
            seen.update(dict.fromkeys(self.event_types[name].fields))
        if any(self.event_types[t].moves for t in self.sources[source].event_types):
            seen.update(dict.fromkeys(("from_state", "to_state")))
        seen.update(dict.fromkeys(COMMON_OPTIONAL_FIELDS))
        return tuple(seen)

    def transitions_for(self, event_type: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.event_type == event_type)

    def default_transition(self, event_type: str) -> Transition | None:
        return next((t for t in self.transitions_for(event_type) if t.default), None)


def _parse(raw: dict) -> Domain:
    fields = {name: FieldSpec(name=name, **spec) for name, spec in raw["fields"].items()}
    kinds = raw.get("reason_code_kinds", {})
    sources: dict[str, Source] = {}
    event_types: dict[str, EventType] = {}
    for source_name, spec in raw["sources"].items():
        for type_name, type_spec in spec["event_types"].items():
            if type_name in event_types:
                raise ValueError(f"event type {type_name!r} is defined twice")
            event_types[type_name] = EventType(
                name=type_name,
                source=source_name,
                required=tuple(type_spec.get("required", ())),
                optional=tuple(type_spec.get("optional", ())),
                moves=bool(type_spec.get("moves", False)),
                reason_code_kind=kinds.get(type_name),
                defines=type_spec.get("defines"),
            )
        sources[source_name] = Source(
            name=source_name,
            description=spec["description"],
            format=spec["format"],
            event_types=tuple(spec["event_types"]),
        )
    transitions = tuple(Transition(**t) for t in raw["transitions"])
    return Domain(
        raw=raw,
        fields=fields,
        sources=sources,
        event_types=event_types,
        transitions=transitions,
    )


@cache
def load_domain(path: Path = DOMAIN_FILE) -> Domain:
    return _parse(load_yaml(path.read_text(encoding="utf-8")))
