"""What the simulator knows to be true: end stock and totals from true events."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from opsledger.models.domain import load_domain

from .config import NODES
from .formatting import STATE_NAMES

DOMAIN = load_domain()

INTERNAL = 7  # the first 7 states are internal (see domain.yml)


def movements(df: pl.DataFrame) -> pl.DataFrame:
    """True stock movements of one source's frame, as integer codes."""
    return df.filter(pl.col("_qty").is_not_null()).select(
        "_t", "_sku", "_from_node", "_to_node", "_from_state", "_to_state", "_qty"
    )


def legs(mv: pl.DataFrame) -> pl.DataFrame:
    """Net quantity that movements `mv` put into each sku x node x internal state;
    the legs of several frames (pieces of one history) add up."""
    out_ = mv.select(
        pl.col("_sku").alias("s"),
        pl.col("_from_node").alias("n"),
        pl.col("_from_state").alias("st"),
        (-pl.col("_qty")).alias("q"),
    )
    in_ = mv.select(
        pl.col("_sku").alias("s"),
        pl.col("_to_node").alias("n"),
        pl.col("_to_state").alias("st"),
        pl.col("_qty").alias("q"),
    )
    return (
        pl.concat([out_, in_])
        .filter(pl.col("st") < INTERNAL)
        .group_by("s", "n", "st")
        .agg(pl.col("q").sum())
    )


def stock_end(legs_: pl.DataFrame, sku_names: list[str]) -> pl.DataFrame:
    """End stock per sku x node x internal state from concatenated `legs`."""
    agg = (
        legs_.group_by("s", "n", "st")
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


def summary_columns(source: str) -> list[pl.Expr]:
    """What `source_summary` needs of contract rows, compact: event_type as an enum,
    the order as a number and whether a cancellation is of the whole order."""
    kinds = pl.Enum(list(DOMAIN.sources[source].event_types))
    cols = [pl.col("event_type").cast(kinds)]
    if "quantity" in DOMAIN.source_fields(source):
        cols.append(pl.col("quantity"))
    if source == "orders":
        order = pl.col("order_id").str.strip_prefix("ORD-").cast(pl.Int64).alias("order")
        cols += [order, pl.col("order_line_id").is_null().alias("whole")]
    if source == "finance":
        cols.append(pl.col("amount"))
    return cols


def source_summary(source: str, df: pl.DataFrame) -> dict:
    """Counts and business totals of one source's true events (master: contract rows,
    other sources: `summary_columns` of them)."""
    out: dict = {
        "total": df.height,
        "by_type": dict(sorted(df.group_by("event_type").len().iter_rows())),
    }

    def qty(et: str) -> int:
        return int(df.filter(pl.col("event_type") == et)["quantity"].sum() or 0)

    if source == "orders":
        placed = df.filter(pl.col("event_type") == "order_placed")
        cancels = df.filter(pl.col("event_type") == "order_cancelled")
        # A whole-order cancellation cancels every line of the order in full.
        whole = cancels.filter(pl.col("whole")).select("order")
        whole_units = placed.join(whole, on="order", how="semi")["quantity"].sum() or 0
        line_units = cancels.filter(~pl.col("whole"))["quantity"].sum()
        out["units_ordered"] = qty("order_placed")
        out["units_cancelled"] = int(whole_units) + int(line_units or 0)
    elif source == "stock":
        out["units_shipped"] = qty("shipped")
    elif source == "returns":
        out["units_returned"] = qty("return_received")
    elif source == "finance":
        out["refunded_amount"] = _sum_money(df, "refund_paid")
    return out


def totals(summaries: dict[str, dict]) -> dict:
    keys = (
        "units_ordered",
        "units_cancelled",
        "units_shipped",
        "units_returned",
        "refunded_amount",
    )
    out: dict = {"events_true": {}, "currency": "GBP"}
    for source, summary in sorted(summaries.items()):
        out["events_true"][source] = {"total": summary["total"], "by_type": summary["by_type"]}
        out.update({k: v for k, v in summary.items() if k in keys})
    out["events_true_total"] = sum(s["total"] for s in summaries.values())
    return out


def scenario(world, sp, cfg, undelivered: dict[str, int]) -> dict:
    """What the simulated operation did on purpose (issue 20), for tests to compare."""
    from datetime import UTC, datetime

    from .config import DAYS, FLASH_SALE, FLASH_SALE_DAYS_BEFORE_END, TPL

    sale_day = cfg.start.toordinal() + DAYS - 1 - FLASH_SALE_DAYS_BEFORE_END
    sync = sp.to_dict(cfg.epoch0)
    sync["store_outage"]["node_id"] = NODES[sync["store_outage"].pop("node_index")][0]
    return {
        "flash_sale": {
            "date": datetime.fromordinal(sale_day).date().isoformat(),
            "multiplier": FLASH_SALE[0],
            "channel": "amazon",
            "node_id": NODES[TPL][0],
        },
        **sync,
        "undelivered_stock_events": undelivered,
        "trending_skus": [str(s) for s in world.cat.sku_ids[world.trending].tolist()],
        "trending_held_units": int(world.scenario.get("trending_held_units", 0)),
        "pending_dispositions": int(world.scenario.get("pending_dispositions", 0)),
        "generated_at_cutoff": datetime.fromtimestamp(cfg.epoch0 + cfg.cutoff, tz=UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
