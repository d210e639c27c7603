"""Export the domain model as dbt seeds, so SQL tests use the very same tables.

The seeds are generated, never edited: `opsledger model export` writes them and
`opsledger model check` (run by the tests) fails when they are out of date.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from opsledger.models.domain import Domain, load_domain, load_yaml

KPIS_FILE = Path(__file__).with_name("kpis.yml")

SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "domain"

Table = tuple[list[str], list[list[object]]]

# The SLAs of a node type (models/domain.yml node_types), each overridable per node.
NODE_SLAS = (
    "stale_after_minutes",
    "latency_p95_target_minutes",
    "refund_within_days",
    "exception_within_days",
    "disposition_within_days",
)


def _tables(domain: Domain) -> dict[str, Table]:
    raw = domain.raw
    states = [
        [name, "internal", spec["blocked"], spec["description"]]
        for name, spec in raw["states"]["internal"].items()
    ] + [
        [name, "external", False, spec["description"]]
        for name, spec in raw["states"]["external"].items()
    ]
    transitions = [
        [t.event_type, t.from_state, t.to_state, t.default, t.disposition or ""]
        for t in domain.transitions
    ]
    event_types = [
        [e.name, e.source, e.moves, e.reason_code_kind or ""] for e in domain.event_types.values()
    ]
    event_fields = [
        [e.name, f, f in e.required, domain.fields[f].type]
        for e in domain.event_types.values()
        for f in e.fields
    ]
    class_dispositions = [
        [cls, disposition]
        for cls, spec in raw["product_classes"].items()
        for disposition in spec["dispositions"]
    ]
    reason_codes = [
        [kind, code, text]
        for kind, codes in raw["reason_codes"].items()
        for code, text in codes.items()
    ]
    roles = [
        [role, "|".join(spec["permissions"]), spec["description"]]
        for role, spec in raw["roles"].items()
    ]
    gl_accounts = [
        [account, spec["type"], spec["description"]] for account, spec in raw["gl_accounts"].items()
    ]
    kpis = load_yaml(KPIS_FILE.read_text(encoding="utf-8"))["kpis"]
    kpi_rows = [
        [
            kpi,
            spec["name"],
            spec["definition"],
            spec["unit"],
            spec["direction"],
            "" if spec["target"] is None else spec["target"],
            "|".join(spec["dimensions"]),
        ]
        for kpi, spec in kpis.items()
    ]
    return {
        "domain_kpis": (
            ["kpi", "kpi_name", "definition", "unit", "direction", "target", "dimensions"],
            kpi_rows,
        ),
        "domain_states": (["state", "state_kind", "is_blocked", "description"], states),
        "domain_transitions": (
            ["event_type", "from_state", "to_state", "is_default", "disposition"],
            transitions,
        ),
        "domain_event_types": (
            ["event_type", "source", "moves_stock", "reason_code_kind"],
            event_types,
        ),
        "domain_event_fields": (
            ["event_type", "field_name", "is_required", "field_type"],
            event_fields,
        ),
        "domain_dispositions": (
            ["disposition", "description"],
            [[k, v] for k, v in raw["dispositions"].items()],
        ),
        "domain_product_class_dispositions": (["product_class", "disposition"], class_dispositions),
        "domain_condition_grades": (
            ["condition_grade", "description"],
            [[k, v] for k, v in raw["condition_grades"].items()],
        ),
        "domain_reason_codes": (["reason_kind", "reason_code", "description"], reason_codes),
        "domain_node_types": (
            ["node_type", *NODE_SLAS, "description"],
            [
                [k, *(v[sla] for sla in NODE_SLAS), v["description"]]
                for k, v in raw["node_types"].items()
            ],
        ),
        "domain_node_slas": (
            ["node_id", *NODE_SLAS],
            [
                [k, *(v.get(sla, "") for sla in NODE_SLAS)]
                for k, v in (raw.get("node_slas") or {}).items()
            ],
        ),
        "domain_roles": (["role", "permissions", "description"], roles),
        "domain_gl_accounts": (["account", "account_type", "description"], gl_accounts),
        "domain_thresholds": (
            ["threshold", "threshold_value"],
            [[k, v] for k, v in raw["thresholds"].items()],
        ),
    }


def _render(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["true" if v is True else "false" if v is False else v for v in row])
    return buffer.getvalue()


def rendered_seeds(domain: Domain | None = None) -> dict[str, str]:
    """File name -> CSV text of every seed the domain model defines."""
    domain = domain or load_domain()
    return {f"{name}.csv": _render(*table) for name, table in _tables(domain).items()}


def export_seeds(target: Path = SEEDS_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered_seeds().items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_seeds(target: Path = SEEDS_DIR) -> list[str]:
    """Names of seeds that are missing or differ from the domain model."""
    stale = []
    for name, text in rendered_seeds().items():
        path = target / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
