"""Realistic delivery defects: late rows, duplicate rows, malformed rows.

True rows keep `_section` 0 (in time order), late rows 1 and duplicates 2
(appended at the end of a later file). Malformed rows are extra rows with fresh
event ids, interleaved with section 0; `_kind` names them ("" for true rows).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from opsledger.models.domain import load_domain

DOMAIN = load_domain()

TEXT_KINDS = (
    "unknown_sku",
    "unknown_node",
    "zero_quantity",
    "negative_quantity",
    "missing_required",
    "wrong_type",
    "timestamp_no_zone",
    "future_timestamp",
    "unknown_event_type",
)
KINDS = {
    "jsonl": ("unparseable_json", *TEXT_KINDS),
    "csv": ("wrong_column_count", *TEXT_KINDS),
    "parquet": ("missing_required", "negative_amount", "unknown_event_type", "future_timestamp"),
}
# A kind needs its template row to carry this field.
NEEDS = {
    "unknown_sku": "sku",
    "unknown_node": "node_id",
    "zero_quantity": "quantity",
    "negative_quantity": "quantity",
    "wrong_type": "quantity",
    "negative_amount": "amount",
}


def _last_file(df: pl.DataFrame, n_files: list[int]) -> pl.Expr:
    return pl.col("_stream").replace_strict(
        list(range(len(n_files))), [n - 1 for n in n_files], return_dtype=pl.Int64
    )


def shift_late_and_duplicate(
    df: pl.DataFrame, n_files: list[int], rate: float, rng: np.random.Generator
) -> tuple[pl.DataFrame, int, int]:
    """Moves some true rows to the next file (late) and copies others there (dups)."""
    df = df.with_columns(_section=pl.lit(0, dtype=pl.Int64), _kind=pl.lit(""))
    if rate <= 0:
        return df, 0, 0
    n = df.height
    last = df.select(_last_file(df, n_files)).to_series().to_numpy()
    file_idx = df["_file"].to_numpy().copy()
    movable = np.flatnonzero(file_idx < last)
    n_late = min(len(movable), round(rate * n))
    late = np.sort(rng.choice(movable, size=n_late, replace=False))
    file_idx[late] += 1
    section = np.zeros(n, dtype=np.int64)
    section[late] = 1
    df = df.with_columns(_file=pl.Series(file_idx), _section=pl.Series(section))
    movable = np.flatnonzero(file_idx < last)
    n_dup = min(len(movable), round(rate * n))
    dup_idx = np.sort(rng.choice(movable, size=n_dup, replace=False))
    dups = df[dup_idx].with_columns(pl.col("_file") + 1, _section=pl.lit(2, dtype=pl.Int64))
    return pl.concat([df, dups]), n_late, n_dup


def malformed(
    df: pl.DataFrame, source: str, fmt: str, rate: float, rng: np.random.Generator
) -> pl.DataFrame:
    """Extra bad rows built from true templates; typed frame in, same schema out."""
    n_bad = round(rate * df.height)
    if n_bad == 0:
        return df.clear()
    kinds = KINDS[fmt]
    # Work on row indices, never on filtered copies of the (large) frame.
    is_true = (df["_section"] == 0).to_numpy()
    etype = df["event_type"]
    commonest = df.filter(pl.col("_section") == 0)["event_type"].value_counts(sort=True)
    commonest = commonest.sort(["count", "event_type"], descending=[True, False])["event_type"][0]
    out = []
    seq = 0
    for ki, kind in enumerate(kinds):
        k = n_bad // len(kinds) + (1 if ki < n_bad % len(kinds) else 0)
        if k == 0:
            continue
        need = NEEDS.get(kind)
        ok = is_true.copy()
        if need:
            ok &= df[need].is_not_null().to_numpy()
        if kind == "missing_required":
            ok &= (etype == commonest).to_numpy()
        pool = np.flatnonzero(ok)
        if len(pool) == 0:
            continue
        rows = df[np.sort(rng.choice(pool, size=k, replace=len(pool) < k))]
        ids = [f"bad-{source}-{seq + i + 1:06d}" for i in range(k)]  # k is small
        seq += k
        rows = rows.with_columns(event_id=pl.Series(ids), _kind=pl.lit(kind))
        out.append(_break(rows, kind, commonest, fmt))
    return pl.concat(out) if out else df.clear()


def _break(rows: pl.DataFrame, kind: str, commonest: str, fmt: str) -> pl.DataFrame:
    c = pl.col
    if kind == "unknown_sku":
        return rows.with_columns(sku=pl.lit("SKU-X") + c("event_id").str.slice(-6))
    if kind == "unknown_node":
        return rows.with_columns(node_id=pl.lit("NODE-X9"))
    if kind == "zero_quantity":
        return rows.with_columns(quantity=pl.lit(0, dtype=pl.Int64))
    if kind == "negative_quantity":
        return rows.with_columns(quantity=-c("quantity"))
    if kind == "missing_required":
        field = DOMAIN.event_types[commonest].required[0]
        return rows.with_columns(pl.lit(None, dtype=rows.schema[field]).alias(field))
    if kind == "timestamp_no_zone":
        return rows.with_columns(event_time=c("event_time").str.replace(r"(Z|[+-]\d\d:\d\d)$", ""))
    if kind == "future_timestamp":
        if fmt == "parquet":
            return rows.with_columns(_t=c("_t") + 74 * 365 * 86400)
        return rows.with_columns(event_time=c("event_time").str.replace(r"^\d{4}", "2099"))
    if kind == "unknown_event_type":
        return rows.with_columns(event_type=pl.lit("stock_teleported"))
    if kind == "negative_amount":
        return rows.with_columns(amount="-" + c("amount"))
    # wrong_type, unparseable_json, wrong_column_count are applied to the encoded line
    return rows
