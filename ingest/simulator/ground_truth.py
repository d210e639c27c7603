"""What the simulator knows to be true: end stock and totals from true events."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from .config import NODES
from .formatting import STATE_NAMES

INTERNAL = 7  # the first 7 states are internal (see domain.yml)


def movements(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """All true stock movements (stock and returns sources) with integer codes."""
    parts = [
        df.filter(pl.col("_qty").is_not_null()).select(
            "event_id", "_t", "_sku", "_from_node", "_to_node", "_from_state", "_to_state", "_qty"
        )
        for src, df in frames.items()
        if src in ("stock", "returns")
    ]
    return pl.concat(parts)


def stock_end(mv: pl.DataFrame, sku_names: list[str]) -> pl.DataFrame:
    out_ = mv.select(
        pl.col("_sku").alias("s"), pl.col("_from_node").alias("n"),
        pl.col("_from_state").alias("st"), (-pl.col("_qty")).alias("q"),
    )
    in_ = mv.select(
        pl.col("_sku").alias("s"), pl.col("_to_node").alias("n"),
        pl.col("_to_state").alias("st"), pl.col("_qty").alias("q"),
    )
    agg = (
        pl.concat([out_, in_])
        .filter(pl.col("st") < INTERNAL)
        .group_by("s", "n", "st")
        .agg(pl.col("q").sum())
        .filter(pl.col("q") != 0)
        .sort("s", "n", "st")
    )
    return agg.select(
        sku=pl.lit(pl.Series(sku_names)).gather(pl.col("s")),
        node_id=pl.lit(pl.Series([n[0] for n in NODES])).gather(pl.col("n")),
        state=pl.lit(pl.Series(list(STATE_NAMES))).gather(pl.col("st")),
        quantity=pl.col("q").cast(pl.Int64),
    )


def _sum_money(df: pl.DataFrame, event_type: str) -> str:
    """Exact sum of 2-dp decimal strings, as integer pence."""
    amounts = df.filter(pl.col("event_type") == event_type)["amount"]
    pence = int(amounts.str.replace(".", "", literal=True).cast(pl.Int64).sum() or 0)
    return str(Decimal(pence) / 100)


def totals(frames: dict[str, pl.DataFrame]) -> dict:
    events_true = {
        src: {
            "total": df.height,
            "by_type": dict(sorted(df.group_by("event_type").len().iter_rows())),
        }
        for src, df in sorted(frames.items())
    }

    def qty(src: str, et: str) -> int:
        d = frames[src].filter(pl.col("event_type") == et)
        return int(d["quantity"].sum() or 0) if d.height else 0

    placed = frames["orders"].filter(pl.col("event_type") == "order_placed")
    cancels = frames["orders"].filter(pl.col("event_type") == "order_cancelled")
    # A whole-order cancellation cancels every line of the order in full.
    whole = cancels.filter(pl.col("order_line_id").is_null()).select("order_id")
    whole_units = placed.join(whole, on="order_id", how="semi")["quantity"].sum() or 0
    line_units = cancels.filter(pl.col("order_line_id").is_not_null())["quantity"].sum() or 0
    return {
        "events_true": events_true,
        "events_true_total": sum(df.height for df in frames.values()),
        "units_ordered": qty("orders", "order_placed"),
        "units_cancelled": int(whole_units) + int(line_units),
        "units_shipped": qty("stock", "shipped"),
        "units_returned": qty("returns", "return_received"),
        "refunded_amount": _sum_money(frames["finance"], "refund_paid"),
        "currency": "GBP",
    }
