"""The declarative column mapping of an order-line export (a YAML file).

See docs/importing.md for the format; mappings/online_retail.yml is a complete
example. Loading validates everything up front, so a bad mapping fails before
any row is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from opsledger.core.errors import BadInput
from opsledger.models.domain import load_domain

COLUMN_ROLES = (
    "invoice",  # order / invoice number (required)
    "line",  # line number within the invoice (optional: else a content hash)
    "sku",  # required
    "description",
    "quantity",  # required
    "unit_price",  # required
    "time",  # required
    "customer",
    "country",
    "channel",
    "unit_cost",  # optional: the line's cost per unit (the SKU's cost becomes known)
)
REQUIRED_ROLES = ("invoice", "sku", "quantity", "unit_price", "time")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class MappingError(BadInput):
    """The mapping file is not valid."""


@dataclass(frozen=True)
class WriteOffRule:
    pattern: str  # case-insensitive regex on the description ('' matches all)
    reason_code: str
    to_state: str  # adjustment | scrap


@dataclass(frozen=True)
class OrderMapping:
    name: str  # namespace of event ids and landing file names
    source: str  # `source` of events read straight from the export
    inferred_source: str  # `source` of events the importer infers
    currency: str
    timezone: str  # IANA zone of wall-clock times ('UTC' when they are UTC)
    time_format: str  # strptime format; '' = ISO 8601
    columns: dict[str, str]  # role -> column name in the file
    channel_constant: str | None
    node_id: str
    node_type: str
    node_name: str
    supplier_id: str
    supplier_lead_time_days: int
    category: str
    promise_hours: float
    credit_prefixes: tuple[str, ...]  # invoice prefixes of credit notes (returns/cancellations)
    negative_quantity_is_return: bool  # a priced negative line is a return too
    return_reason_code: str
    cancel_reason_code: str
    infer_return_restock: bool
    bad_debt_prefixes: tuple[str, ...]
    non_product_codes: dict[str, str]  # upper-case code -> kind
    non_product_patterns: tuple[tuple[str, str], ...]  # (regex on sku, kind)
    write_offs_enabled: bool  # price-0 negative quantity lines are stock write-offs
    write_off_rules: tuple[WriteOffRule, ...]
    found_stock_enabled: bool  # price-0 positive lines without customer are found stock
    receipt_period: str  # day | week | month: granularity of inferred receipts
    # documented cost assumption: category -> unit cost as a share of the list price
    # ('default' for any other category); empty = no assumption (cost unknown)
    cost_ratios: dict[str, float] = field(default_factory=dict)
    cost_note: str = ""  # where the assumption comes from (required with ratios)
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Stable hash of the mapping's meaning (not its formatting)."""
        text = json.dumps(self.raw, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _get(d: dict, key: str, default: Any = None, kind: type | tuple = object) -> Any:
    value = d.get(key, default)
    if value is not None and not isinstance(value, kind):
        raise MappingError(f"{key}: expected {kind}, got {type(value).__name__}")
    return value


def parse_mapping(raw: dict[str, Any]) -> OrderMapping:
    if not isinstance(raw, dict):
        raise MappingError("a mapping is a YAML object")
    domain = load_domain()
    name = _get(raw, "name", kind=str)
    if not name or not NAME_RE.match(name):
        raise MappingError("name: required, lower-case letters, digits, '_' or '-' (max 40)")
    columns = _get(raw, "columns", {}, dict)
    unknown = sorted(set(columns) - set(COLUMN_ROLES))
    if unknown:
        raise MappingError(f"columns: unknown roles {unknown}; known: {list(COLUMN_ROLES)}")
    missing = [r for r in REQUIRED_ROLES if not columns.get(r)]
    if missing:
        raise MappingError(f"columns: required roles missing: {missing}")
    columns = {k: str(v) for k, v in columns.items() if v}
    currency = _get(raw, "currency", "GBP", str)
    if currency not in domain.enum_values("currencies"):
        raise MappingError(f"currency: {currency!r} is not one of the domain's currencies")
    channel = _get(raw, "channel", {"constant": "online"}, dict)
    channel_constant = channel.get("constant")
    if channel.get("column"):
        columns["channel"] = str(channel["column"])
        channel_constant = None
    if not channel_constant and "channel" not in columns:
        raise MappingError("channel: give {constant: ID} or {column: NAME}")
    node = _get(raw, "node", {}, dict)
    node_type = node.get("type", "own_dc")
    if node_type not in domain.node_types:
        raise MappingError(f"node.type: {node_type!r} not one of {list(domain.node_types)}")
    supplier = _get(raw, "supplier", {}, dict)
    cancels = _get(raw, "cancellations", {}, dict)
    returns = _get(raw, "returns", {}, dict)
    return_reason = returns.get("reason_code", "changed_mind")
    if return_reason not in domain.reason_codes("return"):
        raise MappingError(f"returns.reason_code: {return_reason!r} is not a return reason")
    cancel_reason = cancels.get("reason_code", "customer_request")
    if cancel_reason not in domain.reason_codes("cancellation"):
        raise MappingError(f"cancellations.reason_code: {cancel_reason!r} unknown")
    non_product = _get(raw, "non_product", {}, dict)
    codes: dict[str, str] = {}
    for code, kind in (non_product.get("codes") or {}).items():
        codes[str(code).strip().upper()] = str(kind)
    patterns = []
    for item in non_product.get("patterns") or []:
        try:
            re.compile(item["pattern"])
        except (KeyError, TypeError, re.error) as exc:
            raise MappingError(f"non_product.patterns: bad entry {item!r}: {exc}") from exc
        patterns.append((str(item["pattern"]), str(item.get("kind", "non_product"))))
    write_offs = _get(raw, "write_offs", {}, dict)
    rules = []
    adj_reasons = domain.reason_codes("adjustment")
    for item in write_offs.get("rules") or []:
        rule = WriteOffRule(
            str(item.get("pattern", "")),
            str(item.get("reason_code", "")),
            str(item.get("to_state", "adjustment")),
        )
        if rule.reason_code not in adj_reasons:
            raise MappingError(f"write_offs.rules: reason_code {rule.reason_code!r} unknown")
        if rule.to_state not in ("adjustment", "scrap"):
            raise MappingError("write_offs.rules: to_state is adjustment or scrap")
        try:
            re.compile(rule.pattern)
        except re.error as exc:
            raise MappingError(f"write_offs.rules: bad pattern {rule.pattern!r}: {exc}") from exc
        rules.append(rule)
    if not rules or rules[-1].pattern:
        rules.append(WriteOffRule("", "data_correction", "adjustment"))
    ratios, cost_note = _cost_assumption(raw)
    return OrderMapping(
        name=name,
        source=_get(raw, "source", f"import-{name}", str),
        inferred_source=_get(raw, "inferred_source", "import-inferred", str),
        currency=currency,
        timezone=_get(raw, "timezone", "UTC", str),
        time_format=_get(raw, "time_format", "", str),
        columns=columns,
        channel_constant=channel_constant,
        node_id=str(node.get("id", f"{name}-warehouse")),
        node_type=node_type,
        node_name=str(node.get("name", "")),
        supplier_id=str(supplier.get("id", "unknown-supplier")),
        supplier_lead_time_days=int(supplier.get("lead_time_days", 0)),
        category=str(_get(raw, "category", "unknown", str)),
        promise_hours=float(_get(raw, "promise_hours", 0, (int, float))),
        credit_prefixes=tuple(str(p) for p in cancels.get("invoice_prefixes", ["C"])),
        negative_quantity_is_return=bool(cancels.get("negative_quantity", True)),
        return_reason_code=return_reason,
        cancel_reason_code=cancel_reason,
        infer_return_restock=bool(returns.get("infer_receipt_and_restock", True)),
        bad_debt_prefixes=tuple(
            str(p) for p in (raw.get("bad_debt") or {}).get("invoice_prefixes", [])
        ),
        non_product_codes=codes,
        non_product_patterns=tuple(patterns),
        write_offs_enabled=bool(write_offs.get("zero_price_negative_quantity", True)),
        write_off_rules=tuple(rules),
        found_stock_enabled=bool(
            (raw.get("found_stock") or {}).get("zero_price_positive_without_customer", False)
        ),
        receipt_period=_period(raw),
        cost_ratios=ratios,
        cost_note=cost_note,
        raw=raw,
    )


def _cost_assumption(raw: dict[str, Any]) -> tuple[dict[str, float], str]:
    """`costs: {ratio_of_list_price: {CATEGORY|default: R}, note: WHY}`."""
    costs = _get(raw, "costs", {}, dict) or {}
    unknown = sorted(set(costs) - {"ratio_of_list_price", "note"})
    if unknown:
        raise MappingError(f"costs: unknown keys {unknown}; known: ratio_of_list_price, note")
    ratios: dict[str, float] = {}
    for category, ratio in (costs.get("ratio_of_list_price") or {}).items():
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 5:
            raise MappingError(f"costs.ratio_of_list_price.{category}: a number in (0, 5]")
        ratios[str(category)] = float(ratio)
    note = str(costs.get("note") or "").strip()
    if ratios and not note:
        raise MappingError("costs.note: say where the cost ratio comes from (it is an assumption)")
    return ratios, note


def _period(raw: dict[str, Any]) -> str:
    period = str((raw.get("inferred_receipts") or {}).get("period", "month"))
    if period not in ("day", "week", "month"):
        raise MappingError("inferred_receipts.period: day, week or month")
    return period


def load_mapping(path: Path) -> OrderMapping:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read mapping {path}: {exc}") from exc
    return parse_mapping(raw)
