"""Render the event reference (docs/event-reference.md) from the domain model.

Generated like the seeds, so the integrator's documentation cannot drift from
what ingest enforces.
"""

from __future__ import annotations

from pathlib import Path

from opsledger.models.domain import COMMON_FIELDS, COMMON_OPTIONAL_FIELDS, Domain, load_domain

REFERENCE_FILE = Path(__file__).resolve().parent.parent / "docs" / "event-reference.md"
REASONS_FILE = REFERENCE_FILE.with_name("quarantine-reasons.md")
_LEVELS = {
    "reader": "Reading the file: the line cannot become a row of its source",
    "row": "Validating the row against the contract (permanent)",
    "reference": "References to master data (retryable: held, released when it arrives)",
}

_TYPE_TEXT = {
    "string": "string",
    "int": "integer",
    "decimal": "decimal (up to 4 dp)",
    "timestamp": "timestamp, ISO 8601 with zone",
    "date": "date, YYYY-MM-DD",
    "bool": "boolean (true/false)",
    "list": "list, pipe-separated",
}


def _field_row(domain: Domain, name: str, required: bool) -> str:
    spec = domain.fields[name]
    rules = []
    if spec.constraint == "positive":
        rules.append("> 0")
    elif spec.constraint == "non_negative":
        rules.append(">= 0")
    if domain.max_value(name) is not None:
        rules.append(f"<= {domain.max_value(name):,}")
    if spec.enum:
        rules.append("one of: " + ", ".join(f"`{v}`" for v in domain.enum_values(spec.enum)))
    if spec.ref:
        rules.append(f"must exist in master data ({spec.ref})")
    if spec.unit:
        rules.append(f"unit: {spec.unit}")
    need = "required" if required else "optional"
    return (
        f"| `{name}` | {_TYPE_TEXT[spec.type]} | {need} | {'; '.join(rules)} | {spec.description} |"
    )


def render_reference(domain: Domain | None = None) -> str:
    domain = domain or load_domain()
    lines = [
        "# Event reference",
        "",
        "<!-- Generated from models/domain.yml by `opsledger model export`; do not edit. -->",
        "",
        "Every event carries the envelope below, then the fields of its type.",
        "",
        "| field | type | need | rules | meaning |",
        "|---|---|---|---|---|",
    ]
    lines += [_field_row(domain, f, True) for f in COMMON_FIELDS]
    lines += [_field_row(domain, f, False) for f in COMMON_OPTIONAL_FIELDS]
    for source in domain.sources.values():
        lines += ["", f"## Source `{source.name}` ({source.format})", "", source.description]
        for name in source.event_types:
            event = domain.event_types[name]
            lines += ["", f"### `{name}`", ""]
            if event.defines:
                lines += [f"Defines a {event.defines}; the latest `event_time` per key wins.", ""]
            transitions = domain.transitions_for(name)
            if transitions:
                moves = ", ".join(
                    f"`{t.from_state}` -> `{t.to_state}`"
                    + (" (default)" if t.default else "")
                    + (f" for `{t.disposition}`" if t.disposition else "")
                    for t in transitions
                )
                lines += [f"Moves stock: {moves}.", ""]
            if event.reason_code_kind:
                codes = ", ".join(f"`{c}`" for c in domain.reason_codes(event.reason_code_kind))
                lines += [f"`reason_code` is one of: {codes}.", ""]
            lines += ["| field | type | need | rules | meaning |", "|---|---|---|---|---|"]
            lines += [_field_row(domain, f, True) for f in event.required]
            lines += [_field_row(domain, f, False) for f in event.optional]
    lines += ["", "## Product classes and allowed dispositions", ""]
    lines += ["| class | allowed dispositions | notes |", "|---|---|---|"]
    for cls, spec in domain.raw["product_classes"].items():
        allowed = ", ".join(f"`{d}`" for d in spec["dispositions"])
        lines.append(f"| `{cls}` | {allowed} | {spec['description']} |")
    return "\n".join(lines) + "\n"


def write_reference(path: Path = REFERENCE_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_reference(), encoding="utf-8")
    return path


def reference_is_current(path: Path = REFERENCE_FILE) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == render_reference()


def render_reasons(domain: Domain | None = None) -> str:
    """docs/quarantine-reasons.md: every quarantine reason code of the domain model."""
    domain = domain or load_domain()
    reasons = domain.raw["quarantine_reasons"]
    lines = [
        "# Quarantine reasons",
        "",
        "<!-- Generated from models/domain.yml by `opsledger model export`; do not edit. -->",
        "",
        "Every row ingest does not load or count as a duplicate is kept in `raw.quarantine`",
        "with one of these reason codes and a readable detail (see the",
        "[event contract](contract.md)). A *permanent* reason stays until the sender",
        "delivers a corrected file; a *retryable* one is re-checked by every later ingest.",
    ]
    for level, title in _LEVELS.items():
        codes = [(k, v) for k, v in reasons.items() if v["level"] == level]
        lines += ["", f"## {title}", "", "| reason | retryable | meaning |", "|---|---|---|"]
        lines += [
            f"| `{code}` | {'yes' if spec['retryable'] else 'no'} | {spec['description']} |"
            for code, spec in codes
        ]
    return "\n".join(lines) + "\n"


def write_reasons(path: Path = REASONS_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_reasons(), encoding="utf-8")
    return path


def reasons_are_current(path: Path = REASONS_FILE) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == render_reasons()
