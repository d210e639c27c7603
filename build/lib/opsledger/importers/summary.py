"""What an import did, in numbers that reconcile."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportSummary:
    importer: str  # orders | shopify
    name: str
    input: str
    rows_read: int = 0
    event_rows: int = 0  # rows that became events (sales, returns, write-offs, found stock)
    row_kinds: dict[str, int] = field(default_factory=dict)  # sale/return/write_off/found/...
    non_product_rows: int = 0
    non_product: dict[str, int] = field(default_factory=dict)  # kind -> rows
    duplicate_rows: int = 0  # exact repeats of an earlier row: same ids, written once
    quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    events_written: dict[str, int] = field(default_factory=dict)  # event_type -> events
    inferred_events: int = 0  # events with the inferred source
    matched_returns: int = 0
    unmatched_returns: int = 0
    values: dict[str, float] = field(default_factory=dict)  # sum(quantity x price) per row kind
    # products written per cost basis (known | assumed | unknown): how much margin can be known
    skus_by_cost_basis: dict[str, int] = field(default_factory=dict)
    cost_note: str = ""  # the mapping's documented cost assumption, when it has one
    files: list[str] = field(default_factory=list)  # landing files (relative to home)
    files_unchanged: int = 0  # already there with identical content
    quarantine_file: str | None = None
    audit_file: str | None = None
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_read == (
            self.event_rows + self.non_product_rows + self.duplicate_rows + self.quarantined
        )

    def reconciliation(self) -> str:
        return (
            f"rows_read {self.rows_read:,} = event rows {self.event_rows:,} + non-product "
            f"{self.non_product_rows:,} + duplicates {self.duplicate_rows:,} + quarantined "
            f"{self.quarantined:,}" + ("" if self.reconciles else "  (DOES NOT RECONCILE)")
        )

    def to_dict(self) -> dict:
        return {
            "importer": self.importer,
            "name": self.name,
            "input": self.input,
            "rows_read": self.rows_read,
            "event_rows": self.event_rows,
            "row_kinds": dict(sorted(self.row_kinds.items())),
            "non_product_rows": self.non_product_rows,
            "non_product": dict(sorted(self.non_product.items())),
            "duplicate_rows": self.duplicate_rows,
            "quarantined": self.quarantined,
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
            "events_written": dict(sorted(self.events_written.items())),
            "events_total": sum(self.events_written.values()),
            "inferred_events": self.inferred_events,
            "matched_returns": self.matched_returns,
            "unmatched_returns": self.unmatched_returns,
            "values": {k: round(v, 2) for k, v in sorted(self.values.items())},
            "skus_by_cost_basis": dict(sorted(self.skus_by_cost_basis.items())),
            "cost_note": self.cost_note,
            "reconciles": self.reconciles,
            "reconciliation": self.reconciliation(),
            "files": self.files,
            "files_unchanged": self.files_unchanged,
            "quarantine_file": self.quarantine_file,
            "audit_file": self.audit_file,
            "seconds": round(self.seconds, 3),
        }
