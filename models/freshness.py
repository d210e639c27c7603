"""dbt source freshness thresholds from the domain model's SLAs (models/domain.yml).

Each source YAML in dbt/models/staging/ carries the `freshness:` this returns for it;
tests/dbt/test_freshness_config.py fails when one drifts from the domain model."""

from __future__ import annotations

from opsledger.models.domain import Domain

STOCK_FED = ("stock", "ingest")  # sources whose freshness follows the node SLAs


def _dbt(warn_minutes: int, error_minutes: int) -> dict[str, dict[str, int | str]]:
    return {
        "warn_after": {"count": warn_minutes, "period": "minute"},
        "error_after": {"count": error_minutes, "period": "minute"},
    }


def node_sla_minutes(domain: Domain) -> list[int]:
    """Every node type's and single node's stale_after_minutes."""
    minutes = [int(t["stale_after_minutes"]) for t in domain.node_types.values()]
    for sla in (domain.raw.get("node_slas") or {}).values():
        if "stale_after_minutes" in sla:
            minutes.append(int(sla["stale_after_minutes"]))
    return minutes


def source_freshness(domain: Domain) -> dict[str, dict[str, dict[str, int | str]]]:
    """dbt `freshness` per dbt source name. The stock feed serves every node: it warns
    once the tightest node SLA can be breached, errors once the loosest is."""
    minutes = node_sla_minutes(domain)
    out = {name: _dbt(min(minutes), max(minutes)) for name in STOCK_FED}
    for name, sla in (domain.raw.get("source_freshness") or {}).items():
        out[name] = _dbt(int(sla["warn_after_minutes"]), int(sla["error_after_minutes"]))
    return out
