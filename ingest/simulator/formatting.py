"""Turns the numeric event buffer into contract rows per source (polars frames).

Every frame gets the domain fields of its event type plus private columns:
`_t` (seconds after EPOCH0, for ordering and file routing), `_node` (stock
sender routing, -1 elsewhere) and the movement columns `_sku`, `_from_node`,
`_to_node`, `_from_state`, `_to_state`, `_qty` used by the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from opsledger.models.domain import load_domain

from .catalog import Catalog
from .config import CHANNELS, CURRENCY, NODES, SERVICE_LEVELS, STORES
from .events import EventBuffer
from .fulfilment import CANCEL_REASONS
from .returns import DISPOSITIONS, GRADES, REASONS, REJECTIONS

DOMAIN = load_domain()
STATE_NAMES: tuple[str, ...] = DOMAIN.states
ST = {name: i for i, name in enumerate(STATE_NAMES)}
ADJ_REASONS = (
    "cycle_count_variance",
    "damage",
    "shrink",
    "found",
    "write_off_damaged",
    "expired",
    "data_correction",
    "quality_release",
    "quality_block",
)
DISP_STATE = {
    "restock": "resale_ready",
    "refurbish": "quality_hold",
    "liquidate": "liquidation",
    "return_to_vendor": "vendor_return",
    "scrap": "scrap",
    "donate": "donation",
}
ORDER_SENDER = tuple(c[4] for c in CHANNELS)
NODE_SENDER = tuple(n[3] for n in NODES)

# (event type, tag) -> event_id template; {x} are padded id columns built below.
EVENT_IDS: dict[tuple[str, str], str] = {
    ("order_placed", "placed"): "ord-{o}-{l}-placed",
    ("order_cancelled", "whole"): "ord-{o}-cxl",
    ("order_cancelled", "line"): "ord-{o}-{l}-cxl-{reason}",
    ("line_substituted", "sub"): "ord-{o}-{l}-sub",
    ("payment_captured", "pay"): "ord-{o}-pay",
    ("reserved", "rsv"): "ord-{o}-{l}-rsv",
    ("unreserved", "unrsv"): "ord-{o}-{l}-unrsv",
    ("picked", "pick"): "ord-{o}-{l}-pick{k}",
    ("shipped", "shp"): "ord-{o}-{l}-shp{k}",
    ("shipped", "pos"): "ord-{o}-{l}-sale",
    ("return_requested", "req"): "rma-{o}-{l}-req",
    ("return_rejected", "rej"): "rma-{o}-{l}-rej",
    ("return_authorized", "auth"): "rma-{o}-{l}-auth",
    ("return_received", "recv"): "rma-{o}-{l}-recv",
    ("return_inspected", "insp"): "rma-{o}-{l}-insp",
    ("disposition_decided", "disp"): "rma-{o}-{l}-disp",
    ("putaway", "ret"): "rma-{o}-{l}-putaway",
    ("status_change", "refurb"): "rma-{o}-{l}-refurbished",
    ("liquidation_proceeds", "liq"): "rma-{o}-{l}-liq",
    ("vendor_claim_filed", "claim"): "rma-{o}-{l}-claim",
    ("vendor_credit_received", "credit"): "rma-{o}-{l}-credit",
    ("vendor_credit", "credit"): "fin-{o}-{l}-vcredit",
    ("exchange_created", "exch"): "rma-{o}-{l}-exch",
    ("refund_issued", "refund"): "rma-{o}-{l}-refund",
    ("refund_paid", "refund"): "fin-{o}-{l}-refund",
    ("reverse_logistics_cost", "ship"): "fin-{o}-{l}-rlc-ship",
    ("reverse_logistics_cost", "handling"): "fin-{o}-{l}-rlc-hdl",
    ("po_created", "po"): "po-{po}-{pl}-created",
    ("po_confirmed", "po"): "po-{po}-{pl}-confirmed",
    ("asn", "po"): "po-{po}-{pl}-asn",
    ("po_receipt", "po"): "po-{po}-{pl}-receipt",
    ("putaway", "po"): "po-{po}-{pl}-putaway",
    ("po_closed", "po"): "po-{po}-closed",
    ("supplier_invoice", "po"): "fin-{po}-invoice",
    ("cycle_count", "cc"): "cc-{day}-{nd}-{s}",
    ("transfer_out", "tr"): "tr-{tr}-{s}-out",
    ("transfer_in", "tr"): "tr-{tr}-{s}-in",
}
for _tag, _et in (
    ("found", "adjustment"),
    ("shrink", "adjustment"),
    ("writeoff", "adjustment"),
    ("expired", "adjustment"),
    ("dmg", "damaged"),
    ("block", "status_change"),
    ("release", "status_change"),
):
    EVENT_IDS[(_et, _tag)] = "inc-{seq}-" + _tag

# Fixed movement states per (event type, tag) when the chunk does not carry them.
FIXED_STATES: dict[tuple[str, str], tuple[str, str | None]] = {
    ("po_receipt", "po"): ("supplier", None),
    ("reserved", "rsv"): ("available", "reserved"),
    ("unreserved", "unrsv"): ("reserved", "available"),
    ("shipped", "shp"): ("reserved", "customer"),
    ("shipped", "pos"): ("available", "customer"),
    ("putaway", "ret"): ("resale_ready", "available"),
    ("putaway", "po"): ("quality_hold", "available"),
    ("status_change", "refurb"): ("quality_hold", "available"),
    ("return_received", "recv"): ("customer", "returned"),
    ("transfer_out", "tr"): ("available", "in_transit"),
    ("transfer_in", "tr"): ("in_transit", "available"),
}


def _s(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Int64).cast(pl.Utf8)


def _pad(name: str, width: int) -> pl.Expr:
    return _s(name).str.zfill(width)


def _money(name: str) -> pl.Expr:
    c = pl.col(name).cast(pl.Int64)
    return (c // 100).cast(pl.Utf8) + "." + (c % 100).cast(pl.Utf8).str.zfill(2)


def _lookup(values: list | tuple, name: str) -> pl.Expr:
    """Integer code column -> value via a fixed table (vectorised gather)."""
    dtype = pl.Int64 if values and isinstance(values[0], int) else pl.Utf8
    return pl.lit(pl.Series(list(values), dtype=dtype)).gather(pl.col(name).cast(pl.Int64))


def _iso(t: pl.Expr, london: pl.Expr, epoch0: int) -> pl.Expr:
    ts = pl.from_epoch(t + epoch0, time_unit="s").dt.replace_time_zone("UTC")
    utc = ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = ts.dt.convert_time_zone("Europe/London").dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
    return pl.when(london).then(local).otherwise(utc)


def iso_utc(t: pl.Expr, epoch0: int) -> pl.Expr:
    """ISO 8601 in UTC of simulated seconds (null stays null)."""
    return pl.from_epoch(t + epoch0, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_frame(
    et: str, tag: str, raw: pl.DataFrame | pl.LazyFrame, cat: Catalog, epoch0: int
) -> pl.DataFrame | pl.LazyFrame:
    """Contract rows (source columns, then PRIVATE) of numeric events of one key."""
    sku_names = cat.sku_ids.tolist()
    node_names = [n[0] for n in NODES]
    ids = {
        "o": lambda: _pad("order", 8),
        "l": lambda: _s("line"),
        "k": lambda: _s("k"),
        "reason": lambda: _s("reason"),
        "po": lambda: _pad("po", 7),
        "pl": lambda: _s("po_line"),
        "day": lambda: (pl.col("t") // 86400).cast(pl.Utf8).str.zfill(3),
        "nd": lambda: _lookup(node_names, "node"),
        "s": lambda: _lookup(sku_names, "sku"),
        "tr": lambda: _pad("tr", 6),
        "seq": lambda: _pad("seq", 7),
    }
    parts: list[pl.Expr] = []
    for piece in EVENT_IDS[(et, tag)].replace("}", "{").split("{"):
        if piece in ids:
            parts.append(ids[piece]())
        elif piece:
            parts.append(pl.lit(piece))
    df = raw.with_columns(event_id=pl.concat_str(parts))
    fixed = FIXED_STATES.get((et, tag))
    if fixed and "from_state" not in _names(df):
        df = df.with_columns(from_state=pl.lit(ST[fixed[0]]))
    if fixed and fixed[1] and "to_state" not in _names(df):
        df = df.with_columns(to_state=pl.lit(ST[fixed[1]]))
    source = DOMAIN.event_types[et].source
    return _align(_fields(et, tag, df, sku_names, node_names, cat, epoch0), _columns(source))


def _names(df: pl.DataFrame | pl.LazyFrame) -> list[str]:
    return df.collect_schema().names()


def _columns(source: str) -> list[str]:
    return list(DOMAIN.source_fields(source))


@dataclass
class SourceEvents:
    """The true events of one source as numeric chunks, one per (event type, tag) in
    sorted key order: row g of the source is row g - offsets[k] of raws[k]. Rows are
    formatted (strings) only for the rows asked for, so a whole source never is."""

    source: str
    keys: list[tuple[str, str]]
    raws: list[pl.DataFrame]
    offsets: np.ndarray  # first row of each key, then the number of rows
    cat: Catalog
    epoch0: int

    @property
    def n(self) -> int:
        return int(self.offsets[-1])

    def column(self, name: str) -> np.ndarray:
        """A numeric column over all rows (keys without it: -1)."""
        return np.concatenate(
            [
                raw[name].to_numpy().astype(np.int64)
                if name in raw.columns
                else np.full(raw.height, -1, dtype=np.int64)
                for raw in self.raws
            ]
        )

    def key_codes(self) -> np.ndarray:
        """Index into `keys` of every row."""
        return np.repeat(np.arange(len(self.keys), dtype=np.int16), np.diff(self.offsets))

    def format(self, rows: np.ndarray, select: list[pl.Expr] | None = None) -> pl.DataFrame:
        """Contract rows of `rows` (sorted row numbers), in that order; with `select`,
        only those expressions of them (lazily: only what they need is computed)."""
        at = np.searchsorted(rows, self.offsets)
        out = [
            self._frame(k, rows[at[k] : at[k + 1]] - self.offsets[k], select)
            for k in range(len(self.keys))
            if at[k + 1] > at[k]
        ]
        if not out:  # no rows: an empty frame that still has the schema
            out.append(self._frame(len(self.keys) - 1, rows[:0], select))
        return pl.concat(out, how="vertical", rechunk=False)

    def _frame(self, k: int, local: np.ndarray, select: list[pl.Expr] | None) -> pl.DataFrame:
        et, tag = self.keys[k]
        raw = self.raws[k][local]
        if select is None:
            return _key_frame(et, tag, raw, self.cat, self.epoch0)
        return _key_frame(et, tag, raw.lazy(), self.cat, self.epoch0).select(select).collect()


def pop_source(buf: EventBuffer, cat: Catalog, end: int, source: str, epoch0: int) -> SourceEvents:
    """True events of one source (event_time before `end`), consuming their chunks."""
    keys: list[tuple[str, str]] = []
    raws: list[pl.DataFrame] = []
    for et, tag in buf.sorted_keys():
        if DOMAIN.event_types[et].source != source:
            continue
        raw = buf.pop(et, tag).filter(pl.col("t") < end)
        if raw.height:
            keys.append((et, tag))
            raws.append(raw)
    offsets = np.cumsum([0, *(r.height for r in raws)], dtype=np.int64)
    return SourceEvents(source, keys, raws, offsets, cat, epoch0)


PRIVATE = ("_t", "_node", "_sku", "_from_node", "_to_node", "_from_state", "_to_state", "_qty")


def _align(df: pl.DataFrame | pl.LazyFrame, cols: list[str]) -> pl.DataFrame | pl.LazyFrame:
    exprs = []
    present = set(_names(df))
    for c in (*cols, *PRIVATE):
        if c in present:
            exprs.append(pl.col(c))
        else:
            dtype = pl.Int64 if c.startswith("_") or c in _INT_FIELDS else pl.Utf8
            if c == "customer_trusted" or c in ("returnable", "restock_allowed"):
                dtype = pl.Boolean
            exprs.append(pl.lit(None, dtype=dtype).alias(c))
    return df.select(exprs)


_INT_FIELDS = {n for n, f in DOMAIN.fields.items() if f.type == "int"}


def _fields(
    et: str,
    tag: str,
    df: pl.DataFrame | pl.LazyFrame,
    sku_names: list[str],
    node_names: list[str],
    cat: Catalog,
    epoch0: int,
) -> pl.DataFrame | pl.LazyFrame:
    """Domain columns of one event type, plus private routing/movement columns."""
    c = pl.col
    has = set(_names(df))
    node_col = "node" if "node" in has else None
    stock = DOMAIN.event_types[et].source == "stock"
    london = c("node").is_in(list(STORES)) if (node_col and stock) else pl.lit(False)
    if et in ("order_placed", "order_cancelled", "line_substituted", "payment_captured"):
        london = c("channel") == 3
        source = _lookup(ORDER_SENDER, "channel")
    elif stock:
        source = _lookup(NODE_SENDER, "node")
    else:
        source = pl.lit(
            {"procurement": "erp", "returns": "returns-portal", "finance": "ledger"}[
                DOMAIN.event_types[et].source
            ]
        )
    order_id = pl.lit("ORD-") + _pad("order", 8) if "order" in has else None
    line_id = order_id + "-" + _s("line") if "line" in has and order_id is not None else None
    rma = pl.lit("RMA-") + _pad("order", 8) + "-" + _s("line") if "line" in has else None
    po_id = pl.lit("PO-") + _pad("po", 7) if "po" in has else None
    f: dict[str, pl.Expr] = {
        "event_id": c("event_id"),
        "event_type": pl.lit(et),
        "event_time": _iso(c("t"), london, epoch0),
        "source": source,
    }
    if "sku" in has:
        f["sku"] = _lookup(sku_names, "sku")
    if node_col:
        f["node_id"] = _lookup(node_names, "node")
    if "qty" in has:
        f["quantity"] = c("qty").cast(pl.Int64)
    if et == "order_placed":
        f.update(
            order_id=order_id,
            order_line_id=line_id,
            channel=_lookup([ch[0] for ch in CHANNELS], "channel"),
            unit_price=_money("price"),
            currency=pl.lit(CURRENCY),
            promised_by=_iso(c("promised"), london, epoch0),
            discount=_money("discount"),
            customer_id=pl.lit("CUST-") + _pad("customer", 7),
            customer_trusted=c("trusted"),
        )
        # store orders carry their store; online ones no node and a service level
        df = df.with_columns(
            service=pl.when(c("service") < 0).then(None).otherwise(c("service")),
            node=pl.when(c("node") < 0).then(None).otherwise(c("node")),
        )
        f["service_level"] = _lookup(SERVICE_LEVELS, "service")
        f["node_id"] = _lookup(node_names, "node")
    elif et == "order_cancelled":
        f["order_id"] = order_id
        if "line" in has:
            f["order_line_id"] = line_id
        f["reason_code"] = _lookup(CANCEL_REASONS, "reason")
    elif et == "line_substituted":
        f.update(order_id=order_id, order_line_id=line_id, original_sku=_lookup(sku_names, "orig"))
    elif et == "payment_captured":
        f.update(
            order_id=order_id,
            payment_id=pl.lit("PAY-") + _pad("order", 8),
            amount=_money("amount"),
            currency=pl.lit(CURRENCY),
        )
    elif et in ("reserved", "unreserved", "picked", "shipped"):
        f.update(order_id=order_id, order_line_id=line_id)
        if et == "shipped":
            # one parcel per order x node (several lines), one till receipt per store sale
            f["shipment_id"] = (
                pl.lit("SHP-") + _pad("parcel", 9)
                if "parcel" in has
                else pl.lit("POS-") + _pad("order", 8)
            )
    elif et == "po_receipt":
        f.update(
            po_id=po_id,
            po_line_id=po_id + "-" + _s("po_line"),
            unit_cost=_money("cost"),
            asn_id=pl.when(c("asn") == 1).then(pl.lit("ASN-") + _pad("po", 7)),
        )
    elif et == "putaway" and "po" in has:
        pass
    elif et in ("transfer_out", "transfer_in"):
        f["transfer_id"] = pl.lit("TR-") + _pad("tr", 6)
        if et == "transfer_out":
            f["to_node_id"] = _lookup(node_names, "to_node")
    elif et == "cycle_count":
        f.update(counted_qty=c("counted"), system_qty=c("system"))
        f.pop("quantity")
    elif et in ("status_change", "damaged", "adjustment") and "reason" in has:
        f["reason_code"] = _lookup(ADJ_REASONS, "reason")
    elif et in ("po_created", "po_confirmed", "asn", "po_closed", "supplier_invoice"):
        f["po_id"] = po_id
        if "po_line" in has:
            f["po_line_id"] = po_id + "-" + _s("po_line")
        if "expected" in has:
            f["expected_at"] = pl.from_epoch(c("expected") + epoch0 // 86400, time_unit="d").cast(
                pl.Utf8
            )
        if et == "asn":
            f["asn_id"] = pl.lit("ASN-") + _pad("po", 7)
        if "sup" in has:
            f["supplier_id"] = _lookup(cat.supplier_ids.tolist(), "sup")
        if "cost" in has:
            f["unit_cost"] = _money("cost")
        if et in ("po_created", "supplier_invoice"):
            f["currency"] = pl.lit(CURRENCY)
        if "amount" in has:
            f["amount"] = _money("amount")
    elif DOMAIN.event_types[et].source in ("returns", "finance"):
        f["return_id"] = rma
        f["return_line_id"] = rma + "-1"
        if et == "return_requested":
            f.update(
                order_id=order_id,
                order_line_id=line_id,
                reason_code=_lookup(REASONS, "reason"),
                customer_trusted=c("trusted"),
            )
        elif et == "return_rejected":
            f["reason_code"] = _lookup(REJECTIONS, "reason")
        elif et in ("return_inspected", "disposition_decided"):
            f["condition_grade"] = _lookup(GRADES, "grade")
            if et == "disposition_decided":
                f["disposition"] = _lookup(DISPOSITIONS, "disp")
        elif et in ("refund_issued", "refund_paid"):
            f["order_line_id"] = line_id
        elif et == "exchange_created":
            f["exchange_order_id"] = pl.lit("EXC-") + _pad("order", 8) + "-" + _s("line")
        elif et in ("vendor_claim_filed", "vendor_credit_received", "vendor_credit"):
            f["claim_id"] = pl.lit("CLM-") + _pad("order", 8) + "-" + _s("line")
            f["supplier_id"] = _lookup(cat.supplier_ids.tolist(), "sup")
            if et != "vendor_claim_filed":
                f.pop("return_id")
                f.pop("return_line_id")
        elif et == "reverse_logistics_cost":
            f.pop("return_line_id")
            f["cost_type"] = pl.lit("return_shipping" if tag == "ship" else "handling")
        if "amount" in has:
            f["amount"] = _money("amount")
            f["currency"] = pl.lit(CURRENCY)

    # Movement columns: explicit states for stock rows, private ones for the truth.
    et_spec = DOMAIN.event_types[et]
    if et_spec.moves:
        if et == "disposition_decided":
            to_state = _lookup([ST[DISP_STATE[d]] for d in DISPOSITIONS], "disp")
            df = df.with_columns(
                from_state=pl.lit(ST["returned"]), to_state=to_state.cast(pl.Int64)
            )
        df = df.with_columns(c("from_state").cast(pl.Int64), c("to_state").cast(pl.Int64))
        moving = c("qty") > 0
        if et_spec.source == "stock":
            f["from_state"] = pl.when(moving).then(_lookup(STATE_NAMES, "from_state"))
            f["to_state"] = pl.when(moving).then(_lookup(STATE_NAMES, "to_state"))
        f["_sku"] = c("sku")
        f["_from_node"] = c("node")
        f["_to_node"] = c("to_node") if "to_node" in has else c("node")
        f["_from_state"] = c("from_state")
        f["_to_state"] = c("to_state")
        f["_qty"] = c("qty").cast(pl.Int64)
    f["_t"] = c("t").cast(pl.Int64)
    f["_node"] = c("node").cast(pl.Int64) if node_col else pl.lit(-1, dtype=pl.Int64)
    return df.select([v.alias(k) for k, v in f.items()])
