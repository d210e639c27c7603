"""Quarantine reason codes: one place, so docs and the app can list them.

A reason is either *permanent* (the row is wrong and stays in quarantine until
someone fixes the source and re-delivers it) or *retryable*: the row is well
formed but refers to master data that has not arrived yet ("early-arriving"
facts). Retryable rows are re-validated by every later ingest and released into
raw as soon as the SKU / node / channel / supplier exists.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # -- line / file level (readers) -------------------------------------
    INVALID_UTF8 = "invalid_utf8"
    MALFORMED_JSON = "malformed_json"
    COLUMN_COUNT = "column_count"
    WRONG_DELIMITER = "wrong_delimiter"
    TRUNCATED_FILE = "truncated_file"
    UNREADABLE_LINE = "unreadable_line"
    # -- row level (validation generated from the domain model) -----------
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    MISSING_REQUIRED = "missing_required"
    INVALID_TYPE = "invalid_type"
    TIMESTAMP_WITHOUT_ZONE = "timestamp_without_zone"
    FUTURE_TIMESTAMP = "future_timestamp"
    INVALID_ENUM = "invalid_enum"
    NOT_POSITIVE = "not_positive"
    NEGATIVE = "negative"
    UNKNOWN_REASON_CODE = "unknown_reason_code"
    INVALID_TRANSITION = "invalid_transition"
    DISPOSITION_NOT_ALLOWED = "disposition_not_allowed"
    RESERVED_FIELD = "reserved_field"
    # -- references to master data (retryable) -----------------------------
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


DESCRIPTIONS: dict[Reason, str] = {
    Reason.INVALID_UTF8: "The line contains bytes that are not valid UTF-8.",
    Reason.MALFORMED_JSON: "The line is not a valid JSON object.",
    Reason.COLUMN_COUNT: "The CSV row has a different number of columns than the header.",
    Reason.WRONG_DELIMITER: "The CSV file does not use ',' as delimiter (e.g. ';'); not parsed.",
    Reason.TRUNCATED_FILE: "Incomplete last line of a truncated or corrupt compressed file.",
    Reason.UNREADABLE_LINE: "The reader could not read the line (e.g. longer than the limit).",
    Reason.UNKNOWN_EVENT_TYPE: "The event type is not one of this source's event types.",
    Reason.MISSING_REQUIRED: "A field required for this event type is missing or empty.",
    Reason.INVALID_TYPE: "A value cannot be read as the field's type (int, decimal, date, ...).",
    Reason.TIMESTAMP_WITHOUT_ZONE: "A timestamp has no time zone ('Z' or an offset is required).",
    Reason.FUTURE_TIMESTAMP: "event_time lies in the future beyond the tolerance.",
    Reason.INVALID_ENUM: "A value is not in the field's list of allowed values.",
    Reason.NOT_POSITIVE: "A value that must be > 0 is zero or negative.",
    Reason.NEGATIVE: "A value that must be >= 0 is negative.",
    Reason.UNKNOWN_REASON_CODE: "The reason_code is not in the list for this event type.",
    Reason.INVALID_TRANSITION: "from_state -> to_state is not an allowed movement for the type.",
    Reason.DISPOSITION_NOT_ALLOWED: "The disposition is not allowed for the SKU's product class.",
    Reason.RESERVED_FIELD: "A write-back provenance field (submission_id, submitted_by, "
    "approved_by) in a file the write-back export did not write.",
    Reason.UNKNOWN_SKU: "The SKU is not (yet) in master data; held and retried.",
    Reason.UNKNOWN_NODE: "The node is not (yet) in master data; held and retried.",
    Reason.UNKNOWN_CHANNEL: "The channel is not (yet) in master data; held and retried.",
    Reason.UNKNOWN_SUPPLIER: "The supplier is not (yet) in master data; held and retried.",
}

RETRYABLE: frozenset[Reason] = frozenset(
    {Reason.UNKNOWN_SKU, Reason.UNKNOWN_NODE, Reason.UNKNOWN_CHANNEL, Reason.UNKNOWN_SUPPLIER}
)

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
