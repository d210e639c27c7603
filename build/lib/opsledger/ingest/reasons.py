"""Quarantine reason codes: one place, so docs and the app can list them.

A reason is either *permanent* (the row is wrong and stays in quarantine until
someone fixes the source and re-delivers it) or *retryable*: the row is well
formed but refers to master data that has not arrived yet ("early-arriving"
facts). Retryable rows are re-validated by every later ingest and released into
raw as soon as the SKU / node / channel / supplier exists.
"""

from __future__ import annotations

from enum import StrEnum

from opsledger.models.domain import load_domain


class Reason(StrEnum):
    # -- line / file level (readers) -------------------------------------
    INVALID_UTF8 = "invalid_utf8"
    MALFORMED_JSON = "malformed_json"
    COLUMN_COUNT = "column_count"
    WRONG_DELIMITER = "wrong_delimiter"
    TRUNCATED_FILE = "truncated_file"
    UNREADABLE_LINE = "unreadable_line"
    UNTERMINATED_QUOTE = "unterminated_quote"
    SKIPPED_BY_PARSER = "skipped_by_parser"
    UNKNOWN_FIELD = "unknown_field"
    # -- row level (validation generated from the domain model) -----------
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    MISSING_REQUIRED = "missing_required"
    INVALID_TYPE = "invalid_type"
    TOO_MANY_DECIMALS = "too_many_decimals"
    TIMESTAMP_WITHOUT_ZONE = "timestamp_without_zone"
    FUTURE_TIMESTAMP = "future_timestamp"
    INVALID_ENUM = "invalid_enum"
    NOT_POSITIVE = "not_positive"
    NEGATIVE = "negative"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_REASON_CODE = "unknown_reason_code"
    INVALID_TRANSITION = "invalid_transition"
    DISPOSITION_NOT_ALLOWED = "disposition_not_allowed"
    RESERVED_FIELD = "reserved_field"
    # -- references to master data (retryable) -----------------------------
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    REVOKED = "revoked"
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_NODE = "unknown_node"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_SUPPLIER = "unknown_supplier"

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]

    @property
    def retryable(self) -> bool:
        return self in RETRYABLE


# descriptions and retryability are domain facts (models/domain.yml
# quarantine_reasons, also the source of docs/quarantine-reasons.md)
_SPECS: dict[str, dict] = load_domain().raw["quarantine_reasons"]
if set(_SPECS) != {r.value for r in Reason}:
    raise RuntimeError(
        "ingest.reasons.Reason and models/domain.yml quarantine_reasons differ: "
        f"{sorted(set(_SPECS) ^ {r.value for r in Reason})}"
    )
DESCRIPTIONS: dict[Reason, str] = {r: str(_SPECS[r.value]["description"]) for r in Reason}
RETRYABLE: frozenset[Reason] = frozenset(r for r in Reason if _SPECS[r.value]["retryable"])

# the retryable reason for each kind of master-data reference (domain `ref:`)
REF_REASONS: dict[str, Reason] = {
    "sku": Reason.UNKNOWN_SKU,
    "node": Reason.UNKNOWN_NODE,
    "channel": Reason.UNKNOWN_CHANNEL,
    "supplier": Reason.UNKNOWN_SUPPLIER,
}


def catalogue() -> list[dict[str, object]]:
    """All reason codes with their message, for docs and `--json` output."""
    return [
        {"reason": r.value, "retryable": r.retryable, "description": r.description} for r in Reason
    ]
