"""`opsledger import shopify DIR`: Shopify Admin API payloads -> contract events.

Reads every `*.json` / `*.jsonl` file of DIR (sorted) in the shapes the Admin
API returns (REST resources; Returns in the GraphQL shape, where they only
exist). A file is recognised by its top-level key:

- `orders` (or one `order`): Order with `line_items`, `fulfillments`,
  `refunds` (`refund_line_items` with `restock_type`, `transactions`);
- `transactions`: Transaction list of an order (`order_id` on each);
- `returns`: Return objects (`returnLineItems`, `reverseFulfillmentOrders`
  with line item `dispositions`), lists or GraphQL connections (nodes/edges);
- `inventory_items`: InventoryItem (`id`, `sku`, `cost`): product costs;
- `inventory_levels`: counted per (item, location) at `updated_at`: a cycle
  count against the imported ledger.

JSON volumes are small (an API page is <= 250 orders), so the payloads are
walked in Python; the stock inference and the writing run in DuckDB as for
order-line exports. Anything unknown, partial or inconsistent is quarantined
with a reason (summary + <home>/import_quarantine/<stem>.jsonl) and never
stops the import. Mapping decisions: docs/importing.md.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from opsledger.core.paths import HomePaths
from opsledger.importers.landing import IMPORTER_VERSION, place, write_sources
from opsledger.importers.orders import inferred_receipts_sql
from opsledger.importers.summary import ImportSummary
from opsledger.models.domain import load_domain

NAME = "shopify"
SOURCE = "shopify"
INFERRED = "import-inferred"
SUPPLIER = "unknown-supplier"
CANCEL_REASONS = {
    "customer": "customer_request",
    "fraud": "fraud",
    "inventory": "out_of_stock",
    "declined": "payment_failed",
}
RETURN_REASONS = {  # Shopify ReturnReason -> domain return reason
    "SIZE_TOO_SMALL": "wrong_size",
    "SIZE_TOO_LARGE": "wrong_size",
    "UNWANTED": "changed_mind",
    "NOT_AS_DESCRIBED": "not_as_described",
    "WRONG_ITEM": "wrong_item",
    "DEFECTIVE": "defective",
    "STYLE": "changed_mind",
    "COLOR": "changed_mind",
    "OTHER": "changed_mind",
    "UNKNOWN": "changed_mind",
}
DEFAULT_RETURN_REASON = "changed_mind"
# reverse fulfillment order disposition -> (received, disposition or None)
DISPOSITIONS = {
    "RESTOCKED": (True, "restock"),
    "PROCESSING_REQUIRED": (True, None),  # received, decision pending: stays in `returned`
    "NOT_RESTOCKED": (True, "scrap"),
    "MISSING": (False, None),
}
# Shopify's restock types (Refund resource): `return` and `legacy_restock` put
# delivered goods back at a location, `no_restock` refunds without taking goods
# back, `cancel` refunds goods that were never delivered. Whatever the type, the
# refunded units of a line that were not fulfilled are a cancellation (with the
# refund's money), never a return.
GOODS_RESTOCK_TYPES = ("return", "legacy_restock")
RESTOCK_TYPES = ("no_restock", "cancel", "return", "legacy_restock")
# a custom line item (no product: no SKU, no variant) keeps its order under this SKU
CUSTOM_ITEM_SKU = "shopify-custom-item"
CENT = Decimal("0.01")


class Quarantine(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _eid(etype: str, *key: object) -> str:
    text = "\x1f".join([NAME, etype, *(str(k) for k in key)])
    return f"{NAME}:{etype}:{hashlib.md5(text.encode()).hexdigest()[:20]}"


def _gid(value: Any) -> str:
    """'gid://shopify/LineItem/123' or 123 -> '123'."""
    text = str(value)
    return text.rsplit("/", 1)[-1] if text.startswith("gid://") else text


def _nodes(value: Any) -> list:
    """A list, or a GraphQL connection ({nodes: [...]} / {edges: [{node}]})."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if "nodes" in value:
            return list(value["nodes"] or [])
        if "edges" in value:
            return [e.get("node") for e in value["edges"] or []]
    raise Quarantine(
        "invalid_payload", f"expected a list or connection, got {type(value).__name__}"
    )


def _time(value: Any, what: str) -> datetime:
    if not value:
        raise Quarantine("missing_field", what)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise Quarantine("invalid_time", f"{what}={value}") from exc
    if parsed.tzinfo is None:
        raise Quarantine("timestamp_without_zone", f"{what}={value}")
    return parsed


def _qty(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Quarantine("invalid_quantity", f"{what}={value!r}")
    try:
        number = int(value)
    except ValueError as exc:
        raise Quarantine("invalid_quantity", f"{what}={value!r}") from exc
    if number < 0:
        raise Quarantine("invalid_quantity", f"{what}={value!r}")
    return number


def _money(value: Any, what: str) -> Decimal:
    if isinstance(value, dict):  # a MoneyBag / price_set
        value = (value.get("shop_money") or value.get("shopMoney") or {}).get("amount")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise Quarantine("invalid_amount", f"{what}={value!r}") from exc
    if amount < 0 or not amount.is_finite():
        raise Quarantine("invalid_amount", f"{what}={value!r}")
    return amount


class _Builder:
    def __init__(self, domain) -> None:
        self.events: list[dict[str, Any]] = []
        self.summary_kinds: dict[str, int] = {}
        self.quarantine: list[dict[str, Any]] = []
        self.currencies = set(domain.enum_values("currencies"))
        self.products: dict[str, dict[str, Any]] = {}  # sku -> {price, title, vendor}
        self.costs: dict[str, Decimal] = {}  # sku -> cost (inventory_items)
        self.item_sku: dict[str, str] = {}  # inventory_item_id -> sku
        self.nodes: set[str] = set()
        self.channels: set[str] = set()
        self.suppliers: set[str] = {SUPPLIER}
        self.lines: dict[str, dict[str, Any]] = {}  # line_item id -> order line facts
        self.returned_lines: set[str] = set()  # line items covered by a Return
        self.levels: list[tuple[dict, str]] = []
        self.custom_lines = 0
        self.variant_sku: dict[str, str] = {}  # variant id -> sku (products file)
        self.node_names: dict[str, str] = {}
        self.orders_seen: dict[str, dict[str, Any]] = {}  # order id -> its lines, currency
        self.fulfillments_seen: set[str] = set()
        self.refunds_seen: set[str] = set()
        self.refund_unallocated = Decimal(0)  # paid beyond the lines' allocation

    # -- helpers -----------------------------------------------------------------
    def emit(self, etype: str, t: datetime, key: tuple, source: str = SOURCE, **fields) -> None:
        row = {
            "event_id": _eid(etype, *key),
            "event_type": etype,
            "event_time": t.isoformat(),
            "source": source,
            "_t": t,
        }
        row.update({k: (None if v is None else str(v)) for k, v in fields.items()})
        self.events.append(row)

    def count(self, kind: str) -> None:
        self.summary_kinds[kind] = self.summary_kinds.get(kind, 0) + 1

    def reject(self, file: str, index: int, reason: str, detail: str, record: Any) -> None:
        self.quarantine.append(
            {"file": file, "record": index, "reason": reason, "detail": detail, "payload": record}
        )

    @staticmethod
    def node(location_id: Any) -> str:
        return f"shopify-location-{_gid(location_id)}"

    # -- orders ------------------------------------------------------------------
    def order(self, o: dict) -> None:
        if not isinstance(o, dict) or o.get("id") is None:
            raise Quarantine("missing_field", "order.id")
        order_id = _gid(o["id"])
        placed = _time(o.get("processed_at") or o.get("created_at"), "order.created_at")
        currency = o.get("currency")
        if currency not in self.currencies:
            raise Quarantine("unsupported_currency", f"currency={currency!r}")
        items = o.get("line_items")
        if not isinstance(items, list) or not items:
            raise Quarantine("missing_field", "order.line_items")
        channel = f"shopify-{o.get('source_name') or 'web'}"
        customer = (o.get("customer") or {}).get("id")
        staged: list[tuple] = []
        lines: dict[str, dict[str, Any]] = {}
        for li in items:
            if not isinstance(li, dict) or li.get("id") is None:
                raise Quarantine("missing_field", "line_item.id")
            line_id = _gid(li["id"])
            variant = _gid(li["variant_id"]) if li.get("variant_id") else None
            sku = li.get("sku") or (
                self.variant_sku.get(variant, f"shopify-variant-{variant}") if variant else None
            )
            if not sku:
                sku = CUSTOM_ITEM_SKU
                self.custom_lines += 1
            qty = _qty(li.get("quantity"), f"line_item {line_id}.quantity")
            if qty == 0:
                raise Quarantine("invalid_quantity", f"line_item {line_id}.quantity=0")
            price = _money(li.get("price"), f"line_item {line_id}.price")
            discount = _money(
                li.get("total_discount") or "0", f"line_item {line_id}.total_discount"
            )
            lines[line_id] = {"order_id": order_id, "sku": sku, "qty": qty, "price": price}
            staged.append(
                (
                    "order_placed", placed, (line_id,),
                    {"order_id": order_id, "order_line_id": line_id, "channel": channel,
                     "sku": sku, "quantity": qty, "unit_price": price, "currency": currency,
                     "promised_by": placed.isoformat(), "customer_id": customer,
                     "discount": discount if discount else None},
                )
            )  # fmt: skip
            prod = self.products.setdefault(sku, {"price": price, "title": None, "vendor": None})
            prod["price"] = max(prod["price"], price)
            prod["title"] = prod["title"] or li.get("title")
            prod["vendor"] = prod["vendor"] or li.get("vendor")
        shipped: dict[str, int] = {}
        fulfillment_ids = []
        for f in o.get("fulfillments") or []:
            staged += self._fulfillment(f, order_id, lines, shipped)
            fulfillment_ids.append(str(f.get("id")))
        cancelled = False
        if o.get("cancelled_at"):
            cancelled = True
            staged.append(
                (
                    "order_cancelled", _time(o["cancelled_at"], "order.cancelled_at"), (order_id,),
                    {"order_id": order_id,
                     "reason_code": CANCEL_REASONS.get(str(o.get("cancel_reason")))},
                )
            )  # fmt: skip
        refunds = [self._parse_refund(r, lines) for r in o.get("refunds") or []]
        # all checks passed: the order's events are kept
        for etype, t, key, fields in staged:
            self.emit(etype, t, key, **fields)
        self.channels.add(channel)
        for line_id, facts in lines.items():
            facts["currency"] = currency
            self.lines[line_id] = facts
        order = {"lines": lines, "currency": currency, "shipped": shipped, "cancelled": cancelled,
                 "cancelled_q": {}}  # fmt: skip
        self.orders_seen[order_id] = order
        self.fulfillments_seen.update(fulfillment_ids)
        for refund in refunds:
            self._refund(refund, order)

    def _fulfillment(self, f: dict, order_id: str, lines: dict, shipped: dict) -> list[tuple]:
        """The `shipped` events of a successful fulfillment (checked, not yet emitted)."""
        if not isinstance(f, dict) or f.get("status") not in (None, "success"):
            return []  # cancelled / failed / error fulfillments moved nothing
        if f.get("id") is None or f.get("location_id") is None:
            raise Quarantine("missing_field", "fulfillment.id/location_id")
        ft = _time(f.get("created_at"), "fulfillment.created_at")
        node = self.node(f["location_id"])
        staged = []
        for fl in f.get("line_items") or []:
            line_id = _gid(fl.get("id"))
            if line_id not in lines:
                raise Quarantine("unknown_line_item", f"fulfillment {f['id']}: {line_id}")
            q = _qty(fl.get("quantity"), "fulfillment line quantity")
            shipped[line_id] = shipped.get(line_id, 0) + q
            if shipped[line_id] > lines[line_id]["qty"]:
                raise Quarantine("over_fulfilled", f"line_item {line_id}")
            staged.append(
                (
                    "shipped", ft, (f["id"], line_id), {
                        "order_id": order_id, "order_line_id": line_id, "node_id": node,
                        "sku": lines[line_id]["sku"], "quantity": q,
                        "shipment_id": _gid(f["id"]), "from_state": "available",
                        "to_state": "customer"},
                )
            )  # fmt: skip
            lines[line_id]["node"] = node
        return staged

    def fulfillment(self, f: dict) -> bool:
        """A standalone Fulfillment (fulfillments.json): its order must be imported."""
        if not isinstance(f, dict) or f.get("order_id") is None:
            raise Quarantine("missing_field", "fulfillment.order_id")
        order = self.orders_seen.get(_gid(f["order_id"]))
        if order is None:
            raise Quarantine("unknown_order", f"fulfillment {f.get('id')}: {f['order_id']}")
        if str(f.get("id")) in self.fulfillments_seen:
            return False  # already read with its order
        shipped = dict(order["shipped"])
        staged = self._fulfillment(f, _gid(f["order_id"]), order["lines"], shipped)
        for etype, t, key, fields in staged:
            self.emit(etype, t, key, **fields)
        order["shipped"].update(shipped)
        self.fulfillments_seen.add(str(f.get("id")))
        return bool(staged)

    def _parse_refund(self, r: dict, lines: dict) -> tuple:
        """(refund, time, [(rli, line_id, restock, qty, allocated)], paid), checked."""
        if not isinstance(r, dict) or r.get("id") is None:
            raise Quarantine("missing_field", "refund.id")
        rt = _time(r.get("processed_at") or r.get("created_at"), "refund.created_at")
        items = []
        for rli in r.get("refund_line_items") or []:
            line_id = _gid(rli.get("line_item_id") or (rli.get("line_item") or {}).get("id"))
            if line_id not in lines:
                raise Quarantine("unknown_line_item", f"refund {r['id']}: {line_id}")
            restock = rli.get("restock_type") or "no_restock"
            if restock not in RESTOCK_TYPES:
                raise Quarantine("unknown_restock_type", f"restock_type={restock!r}")
            q = _qty(rli.get("quantity"), "refund_line_item.quantity")
            allocated = _money(rli.get("subtotal") or "0", "refund_line_item.subtotal") + _money(
                rli.get("total_tax") or "0", "refund_line_item.total_tax"
            )
            items.append((rli, line_id, restock, q, allocated))
        # the money that moved: the refund's successful refund transactions
        paid = sum(
            (
                _money(tx.get("amount"), "refund transaction amount")
                for tx in r.get("transactions") or []
                if tx.get("kind") == "refund" and tx.get("status") == "success"
            ),
            Decimal(0),
        )
        return r, rt, items, paid

    def refund(self, r: dict) -> bool:
        """A standalone Refund (refunds.json): its order must be imported."""
        if not isinstance(r, dict) or r.get("order_id") is None:
            raise Quarantine("missing_field", "refund.order_id")
        order = self.orders_seen.get(_gid(r["order_id"]))
        if order is None:
            raise Quarantine("unknown_order", f"refund {r.get('id')}: {r['order_id']}")
        if str(r.get("id")) in self.refunds_seen:
            return False  # already read with its order
        self._refund(self._parse_refund(r, order["lines"]), order)
        return True

    def _refund(self, refund: tuple, order: dict) -> None:
        r, rt, items, paid = refund
        self.refunds_seen.add(str(r["id"]))
        lines, currency = order["lines"], order["currency"]
        # the payment spread over the lines by their allocation, never above it
        total = sum((it[4] for it in items), Decimal(0))
        shares = []
        left = paid
        for n, it in enumerate(items):
            share = left if n == len(items) - 1 else (paid * it[4] / total).quantize(CENT)
            share = min(share, it[4]) if total else Decimal(0)
            shares.append(share)
            left -= share
        self.refund_unallocated += paid - sum(shares, Decimal(0))
        rid = _gid(r["id"])
        for (rli, line_id, restock, q, allocated), line_paid in zip(items, shares, strict=True):
            facts = lines[line_id]
            rlid = _gid(rli.get("id") or f"{r['id']}-{line_id}")
            done = order["shipped"].get(line_id, 0) + order["cancelled_q"].get(line_id, 0)
            cancel_q = min(q, max(facts["qty"] - done, 0))  # never fulfilled: a cancellation
            goods_q = q - cancel_q
            cancel_paid = (line_paid * cancel_q / q).quantize(CENT) if q else Decimal(0)
            cancel_alloc = (allocated * cancel_q / q).quantize(CENT) if q else Decimal(0)
            if cancel_q:
                order["cancelled_q"][line_id] = order["cancelled_q"].get(line_id, 0) + cancel_q
                if not order["cancelled"] or cancel_paid:
                    self.emit("order_cancelled", rt, (rlid,), order_id=facts["order_id"],
                              order_line_id=line_id, quantity=cancel_q,
                              reason_code="customer_request",
                              amount=cancel_paid if cancel_paid else None,
                              currency=currency if cancel_paid else None)  # fmt: skip
            money, owed = line_paid - cancel_paid, allocated - cancel_alloc
            if goods_q:
                self.emit("return_requested", rt, (rlid,), return_id=rid, return_line_id=rlid,
                          order_id=facts["order_id"], order_line_id=line_id, sku=facts["sku"],
                          quantity=goods_q, reason_code=DEFAULT_RETURN_REASON)  # fmt: skip
                self.emit("return_authorized", rt, (rlid,), return_id=rid, return_line_id=rlid)
            if goods_q or not q:
                ids = {"return_id": rid, "return_line_id": rlid, "order_line_id": line_id,
                       "currency": currency}  # fmt: skip
                if owed:  # what the refund allocated to the line
                    self.emit("refund_issued", rt, (rlid,), amount=owed, **ids)
                if money:  # what its transactions paid
                    self.emit("refund_paid", rt, (rlid,), amount=money, **ids)
            covered = line_id in self.returned_lines
            if goods_q and restock in GOODS_RESTOCK_TYPES and not covered:
                loc = rli.get("location_id")
                node = self.node(loc) if loc is not None else facts.get("node")
                if node is None:
                    continue  # restocked where? no location anywhere: money only
                self._receive(rt, rid, rlid, node, facts["sku"], goods_q, "restock")

    def _receive(
        self, t: datetime, rid: str, rlid: str, node: str, sku: str, q: int, disposition: str | None
    ) -> None:
        self.nodes.add(node)
        base = {
            "return_id": rid,
            "return_line_id": rlid,
            "node_id": node,
            "sku": sku,
            "quantity": q,
        }
        self.emit("return_received", t, (rlid,), from_state="customer", to_state="returned", **base)
        if disposition:
            to = {"restock": "resale_ready", "scrap": "scrap"}[disposition]
            self.emit("disposition_decided", t, (rlid,), disposition=disposition,
                      from_state="returned", to_state=to, **base)  # fmt: skip
            if disposition == "restock":
                self.emit("putaway", t, (rlid,), node_id=node, sku=sku, quantity=q,
                          from_state="resale_ready", to_state="available")  # fmt: skip

    # -- returns (GraphQL Return) -----------------------------------------------------
    def return_(self, ret: dict) -> None:
        if not isinstance(ret, dict) or not ret.get("id"):
            raise Quarantine("missing_field", "return.id")
        rid = _gid(ret["id"])
        t = _time(ret.get("createdAt") or ret.get("created_at"), "return.createdAt")
        staged: list = []
        for rli in _nodes(ret.get("returnLineItems")):
            rlid = _gid(rli.get("id"))
            line = ((rli.get("fulfillmentLineItem") or {}).get("lineItem") or {}).get("id")
            line_id = _gid(line) if line else None
            if line_id not in self.lines:
                raise Quarantine("unknown_line_item", f"return {rid}: line item {line_id}")
            q = _qty(rli.get("quantity"), "returnLineItem.quantity")
            reason = RETURN_REASONS.get(str(rli.get("returnReason")), DEFAULT_RETURN_REASON)
            staged.append((rlid, line_id, q, reason))
        if not staged:
            raise Quarantine("missing_field", "return.returnLineItems")
        by_line = {s[1]: s[0] for s in staged}
        goods: list = []
        for rfo in _nodes(ret.get("reverseFulfillmentOrders")):
            for rl in _nodes(rfo.get("lineItems")):
                line = ((rl.get("fulfillmentLineItem") or {}).get("lineItem") or {}).get("id")
                line_id = _gid(line) if line else None
                if line_id not in by_line:
                    raise Quarantine("unknown_line_item", f"reverse fulfillment: {line_id}")
                for d in _nodes(rl.get("dispositions")):
                    kind = d.get("type")
                    if kind not in DISPOSITIONS:
                        raise Quarantine("unknown_disposition", f"type={kind!r}")
                    loc = (d.get("location") or {}).get("id")
                    dq = _qty(d.get("quantity"), "disposition.quantity")
                    dt = _time(d.get("createdAt") or ret.get("createdAt"), "disposition.createdAt")
                    if DISPOSITIONS[kind][0] and loc is None:
                        raise Quarantine("missing_field", "disposition.location")
                    goods.append((by_line[line_id], line_id, kind, loc, dq, dt, d.get("id")))
        for rlid, line_id, q, reason in staged:
            facts = self.lines[line_id]
            self.emit("return_requested", t, (rid, rlid), return_id=rid, return_line_id=rlid,
                      order_id=facts["order_id"], order_line_id=line_id, sku=facts["sku"],
                      quantity=q, reason_code=reason)  # fmt: skip
            if str(ret.get("status", "OPEN")).upper() in ("DECLINED",):
                self.emit("return_rejected", t, (rid, rlid), return_id=rid, return_line_id=rlid,
                          reason_code="outside_window")  # fmt: skip
            elif str(ret.get("status", "OPEN")).upper() != "REQUESTED":
                self.emit("return_authorized", t, (rid, rlid), return_id=rid, return_line_id=rlid)
            self.returned_lines.add(line_id)
        for n, (rlid, line_id, kind, loc, dq, dt, did) in enumerate(goods):
            received, disposition = DISPOSITIONS[kind]
            if not received or not dq:
                continue
            self._receive(dt, rid, f"{rlid}-{did or n}", self.node(loc),
                          self.lines[line_id]["sku"], dq, disposition)  # fmt: skip

    # -- transactions, inventory ---------------------------------------------------------
    def transaction(self, tx: dict) -> bool:
        if not isinstance(tx, dict) or tx.get("id") is None or tx.get("order_id") is None:
            raise Quarantine("missing_field", "transaction.id/order_id")
        if tx.get("kind") not in ("sale", "capture") or tx.get("status") != "success":
            return (
                False  # authorizations, voids, failures, refunds (from refunds) move no money here
            )
        currency = tx.get("currency")
        if currency not in self.currencies:
            raise Quarantine("unsupported_currency", f"currency={currency!r}")
        t = _time(tx.get("processed_at") or tx.get("created_at"), "transaction.created_at")
        self.emit("payment_captured", t, (tx["id"],), order_id=_gid(tx["order_id"]),
                  payment_id=_gid(tx["id"]), amount=_money(tx.get("amount"), "amount"),
                  currency=currency)  # fmt: skip
        return True

    def product(self, p: dict) -> bool:
        """Product with `variants` (sku, price, inventory_item_id): master data, item -> SKU."""
        if not isinstance(p, dict) or p.get("id") is None:
            raise Quarantine("missing_field", "product.id")
        found = False
        for v in p.get("variants") or []:
            if not isinstance(v, dict) or not v.get("sku"):
                continue  # a variant without SKU is not stock we can follow
            sku = str(v["sku"])
            if v.get("inventory_item_id") is not None:
                self.item_sku[_gid(v["inventory_item_id"])] = sku
            if v.get("id") is not None:
                self.variant_sku[_gid(v["id"])] = sku
            price = _money(v.get("price") or "0", "variant.price")
            prod = self.products.setdefault(sku, {"price": price, "title": None, "vendor": None})
            prod["price"] = max(prod["price"], price)
            prod["title"] = prod["title"] or p.get("title")
            prod["vendor"] = prod["vendor"] or p.get("vendor")
            found = True
        return found

    def location(self, loc: dict) -> None:
        """Location: a node (own DC) with its name."""
        if not isinstance(loc, dict) or loc.get("id") is None:
            raise Quarantine("missing_field", "location.id")
        node = self.node(loc["id"])
        self.nodes.add(node)
        if loc.get("name"):
            self.node_names[node] = str(loc["name"])

    def inventory_item(self, item: dict) -> None:
        if not isinstance(item, dict) or item.get("id") is None or not item.get("sku"):
            raise Quarantine("missing_field", "inventory_item.id/sku")
        self.item_sku[_gid(item["id"])] = item["sku"]
        if item.get("cost") is not None:
            self.costs[item["sku"]] = _money(item["cost"], "inventory_item.cost")


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    """(resource kind, record) of a payload file; raises Quarantine for the whole file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Quarantine("unreadable_file", str(exc)) from exc
    docs: list[Any] = []
    if path.suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise Quarantine("malformed_json", f"line {n}: {exc}") from exc
    else:
        try:
            docs.append(json.loads(text))
        except json.JSONDecodeError as exc:
            raise Quarantine("malformed_json", str(exc)) from exc
    for doc in docs:
        if isinstance(doc, dict) and "data" in doc and isinstance(doc["data"], dict):
            doc = doc["data"]  # a GraphQL response
        if not isinstance(doc, dict) or not any(k in doc for k in RESOURCES):
            keys = list(doc)[:5] if isinstance(doc, dict) else type(doc).__name__
            raise Quarantine("unknown_payload", f"top-level keys {keys}")
        for key, kind in RESOURCES.items():
            if key not in doc:
                continue
            value = doc[key]
            # a single-object response ({"order": {...}}) or a list / connection
            items = [value] if key != kind else _nodes(value)
            for item in items:
                yield kind, item


# top-level key of a payload (list and single-object shapes) -> resource kind
RESOURCES = {
    **{k: k for k in ("products", "inventory_items", "locations", "orders", "fulfillments",
                      "refunds", "returns", "transactions", "inventory_levels")},
    "product": "products", "inventory_item": "inventory_items", "location": "locations",
    "order": "orders", "fulfillment": "fulfillments", "refund": "refunds", "return": "returns",
    "transaction": "transactions", "inventory_level": "inventory_levels",
}  # fmt: skip
# master data first; fulfillments and refunds after the orders they belong to
ORDER_OF_KINDS = (
    "products", "inventory_items", "locations", "orders", "fulfillments", "refunds",
    "returns", "transactions", "inventory_levels",
)  # fmt: skip


def import_shopify(home: Path, directory: Path) -> ImportSummary:
    """Import a folder of Shopify Admin API payloads into <home>/landing/ (idempotent)."""
    started = time.perf_counter()
    directory = Path(directory)
    paths = HomePaths.at(home).ensure()
    domain = load_domain()
    summary = ImportSummary("shopify", NAME, str(directory))
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl")
    )
    digest = hashlib.sha256(IMPORTER_VERSION.encode())
    for p in files:
        digest.update(p.relative_to(directory).as_posix().encode() + b"\x1f" + p.read_bytes())
    stem = f"import-{NAME}-{digest.hexdigest()[:12]}"
    b = _Builder(domain)
    records: dict[str, list[tuple[str, int, Any]]] = {k: [] for k in ORDER_OF_KINDS}
    for p in files:
        rel = p.relative_to(directory).as_posix()
        try:
            found = list(_records(p))
        except Quarantine as q:
            summary.rows_read += 1
            b.reject(rel, 0, q.reason, q.detail, None)
            continue
        for i, (kind, rec) in enumerate(found):
            records[kind].append((rel, i, rec))
    handlers = {
        "products": b.product,
        "locations": b.location,
        "fulfillments": b.fulfillment,
        "refunds": b.refund,
        "inventory_items": b.inventory_item,
        "orders": b.order,
        "returns": b.return_,
        "transactions": b.transaction,
        "inventory_levels": lambda rec: b.levels.append((rec, "")),
    }
    # returns before refunds decide who moves the goods: pre-scan returned line items
    for _rel, _i, rec in records["returns"]:
        for rli in _nodes(rec.get("returnLineItems")) if isinstance(rec, dict) else []:
            line = ((rli.get("fulfillmentLineItem") or {}).get("lineItem") or {}).get("id")
            if line:
                b.returned_lines.add(_gid(line))
    for kind in ORDER_OF_KINDS:
        for rel, i, rec in records[kind]:
            summary.rows_read += 1
            try:
                result = handlers[kind](rec)
            except Quarantine as q:
                b.reject(rel, i, q.reason, q.detail, rec)
                continue
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                b.reject(rel, i, "invalid_payload", f"{type(exc).__name__}: {exc}", rec)
                continue
            b.count(kind if result is not False else f"{kind}_without_events")
    summary.row_kinds = dict(b.summary_kinds)
    summary.event_rows = sum(v for k, v in b.summary_kinds.items() if "without" not in k)
    summary.non_product = {k: v for k, v in b.summary_kinds.items() if "without" in k}
    summary.non_product_rows = sum(summary.non_product.values())
    summary.quarantined = len(b.quarantine)
    # refunded money beyond the lines' allocation (shipping, order adjustments): reported
    summary.values["refund_paid_unallocated"] = float(b.refund_unallocated)
    summary.values["custom_line_items"] = float(b.custom_lines)
    for q in b.quarantine:
        summary.quarantine_reasons[q["reason"]] = summary.quarantine_reasons.get(q["reason"], 0) + 1
    _finish(b, paths, domain, stem, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def _finish(b: _Builder, paths: HomePaths, domain, stem: str, summary: ImportSummary) -> None:
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false; SET preserve_insertion_order = true")
        con.execute(
            "CREATE TEMP MACRO _iso(t) AS strftime(timezone('UTC', t), '%Y-%m-%dT%H:%M:%S') || 'Z'"
        )
        con.execute(
            f"CREATE TEMP MACRO _eid(et, k) AS '{NAME}:' || et || ':' "
            f"|| left(md5('{NAME}' || chr(31) || et || chr(31) || k), 20)"
        )
        cols = sorted({k for e in b.events for k in e} - {"_t"})
        base = [f for src in domain.sources for f in domain.source_fields(src)]
        cols = list(dict.fromkeys(base + cols))
        table = pa.table(
            {c: pa.array([e.get(c) for e in b.events], pa.string()) for c in cols}
            | {"_t": pa.array([e["_t"] for e in b.events], pa.timestamp("us", tz="UTC"))}
        )
        con.register("_events_in", table)
        con.execute("CREATE TEMP TABLE _ev AS SELECT * FROM _events_in")
        con.unregister("_events_in")
        if b.events:
            con.execute(inferred_receipts_sql(INFERRED, "month"))
        _levels(con, b, summary)
        _master(con, b)
        s = con.execute("SELECT event_type, count(*) FROM _ev GROUP BY 1").fetchall()
        summary.events_written = {k: int(v) for k, v in s}
        (summary.inferred_events,) = con.execute(
            f"SELECT count(*) FROM _ev WHERE source = '{INFERRED}'"
        ).fetchone()
        if b.events:
            write_sources(con, "_ev", domain, paths, stem, summary)
    finally:
        con.close()
    if b.quarantine:
        qdir = paths.root / "import_quarantine"
        qdir.mkdir(parents=True, exist_ok=True)
        dest = qdir / f"{stem}.jsonl"
        tmp = dest.with_name(dest.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for q in b.quarantine:
                out.write(json.dumps(q, sort_keys=True, default=str) + "\n")
        tmp.replace(dest) if not dest.exists() else place(tmp, dest)
        summary.quarantine_file = dest.relative_to(paths.root).as_posix()


def _levels(con: duckdb.DuckDBPyConnection, b: _Builder, summary: ImportSummary) -> None:
    """inventory_levels -> cycle counts: counted = `available`, system = the ledger's.

    A level is an absolute snapshot (units available at a location at
    `updated_at`), not a movement: taken in time order per location and SKU,
    each is a count against the system quantity at that time, which includes
    what earlier counts corrected. Two equal readings move stock once.
    """
    checked = []
    for rec, _ in b.levels:
        try:
            if not isinstance(rec, dict) or rec.get("inventory_item_id") is None:
                raise Quarantine("missing_field", "inventory_level.inventory_item_id")
            sku = b.item_sku.get(_gid(rec["inventory_item_id"]))
            if sku is None:
                raise Quarantine("unknown_inventory_item", str(rec["inventory_item_id"]))
            if rec.get("location_id") is None:
                raise Quarantine("missing_field", "inventory_level.location_id")
            counted = _qty(rec.get("available"), "inventory_level.available")
            t = _time(rec.get("updated_at"), "inventory_level.updated_at")
        except Quarantine as q:
            b.reject("inventory_levels", 0, q.reason, q.detail, rec)
            summary.quarantined += 1
            summary.quarantine_reasons[q.reason] = summary.quarantine_reasons.get(q.reason, 0) + 1
            summary.row_kinds["inventory_levels"] = summary.row_kinds.get("inventory_levels", 1) - 1
            summary.event_rows -= 1
            continue
        checked.append((b.node(rec["location_id"]), sku, t, counted))
    corrected: dict[tuple[str, str], int] = {}  # (node, sku) -> units earlier counts added
    for node, sku, t, counted in sorted(checked):
        b.nodes.add(node)
        (flows,) = con.execute(
            "SELECT coalesce(sum(CASE WHEN to_state = 'available' THEN 1 ELSE -1 END "
            "* CAST(quantity AS BIGINT)), 0) FROM _ev WHERE node_id = $n AND sku = $s AND _t <= $t "
            "AND (from_state = 'available' OR to_state = 'available')",
            {"n": node, "s": sku, "t": t},
        ).fetchone()
        system = max(int(flows) + corrected.get((node, sku), 0), 0)
        corrected[(node, sku)] = corrected.get((node, sku), 0) + counted - system
        con.execute(
            "INSERT INTO _ev BY NAME SELECT _eid('cycle_count', $k) AS event_id, "
            "'cycle_count' AS event_type, $et AS event_time, 'shopify' AS source, $n AS node_id, "
            "$s AS sku, $c AS counted_qty, $sys AS system_qty, $t AS _t",
            {"k": f"{node}\x1f{sku}\x1f{t.isoformat()}", "et": t.isoformat(), "n": node,
             "s": sku, "c": str(counted), "sys": str(system), "t": t},
        )  # fmt: skip
        if b.products.get(sku) is None:
            b.products[sku] = {"price": Decimal(0), "title": None, "vendor": None}


def _master(con: duckdb.DuckDBPyConnection, b: _Builder) -> None:
    nodes = sorted(b.nodes | {r[0] for r in con.execute(
        "SELECT DISTINCT node_id FROM _ev WHERE node_id IS NOT NULL").fetchall()})  # fmt: skip
    (t0,) = con.execute("SELECT min(_t) FROM _ev").fetchone()
    if t0 is None:
        return
    rows: list[dict[str, Any]] = []
    t = t0.isoformat()
    channels = "|".join(sorted(b.channels)) or "shopify-web"
    for node in nodes:
        rows.append({"event_type": "location_upserted", "key": node, "node_id": node,
                     "node_type": "own_dc", "channels": channels,
                     "name": b.node_names.get(node, node)})  # fmt: skip
    for ch in sorted(b.channels):
        rows.append({"event_type": "channel_upserted", "key": ch, "channel_id": ch, "name": ch})
    vendors = {p["vendor"] for p in b.products.values() if p["vendor"]}
    for sup in sorted(b.suppliers | vendors):
        rows.append({"event_type": "supplier_upserted", "key": sup, "supplier_id": sup,
                     "lead_time_days": "0", "name": sup})  # fmt: skip
    for sku, p in sorted(b.products.items()):
        rows.append({"event_type": "product_upserted", "key": sku, "sku": sku,
                     "category": "unknown", "product_class": "unknown",
                     # the inventory item's cost is known; without one it is unknown
                     # (0 only as a placeholder, cost_basis 'unknown'), never a zero cost
                     "unit_cost": str(b.costs.get(sku, Decimal(0))),
                     "cost_basis": "known" if sku in b.costs else "unknown",
                     "list_price": str(p["price"]),
                     "supplier_id": p["vendor"] or SUPPLIER, "description": p["title"]})  # fmt: skip
    for r in rows:
        etype, key = r.pop("event_type"), r.pop("key")
        fields = ", ".join(f"$v{i} AS {k}" for i, k in enumerate(r))
        con.execute(
            f"INSERT INTO _ev BY NAME SELECT _eid($et, $k) AS event_id, $et AS event_type, "
            f"$t AS event_time, '{INFERRED}' AS source, $t0 - INTERVAL 1 MINUTE AS _t, {fields}",
            {"et": etype, "k": key, "t": t, "t0": t0}
            | {f"v{i}": v for i, v in enumerate(r.values())},
        )
    # master events one minute before the first event
    con.execute(
        "UPDATE _ev SET event_time = _iso(_t) WHERE event_type IN ('location_upserted', "
        "'channel_upserted', 'supplier_upserted', 'product_upserted')"
    )
