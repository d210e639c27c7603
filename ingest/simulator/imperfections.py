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


def late_and_duplicate(
    stream: np.ndarray, file: np.ndarray, n_files: list[int], rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moves some true rows to the next file (late) and picks others to copy there
    (dups); returns the new file, the section of each row and the copied rows."""
    n = len(file)
    section = np.zeros(n, dtype=np.int64)
    if rate <= 0:
        return file, section, np.zeros(0, dtype=np.int64)
    last = np.asarray([k - 1 for k in n_files], dtype=np.int64)[stream]
    file = file.astype(np.int64)  # a copy
    movable = np.flatnonzero(file < last)
    late = np.sort(rng.choice(movable, size=min(len(movable), round(rate * n)), replace=False))
    file[late] += 1
    section[late] = 1
    movable = np.flatnonzero(file < last)
    dup = np.sort(rng.choice(movable, size=min(len(movable), round(rate * n)), replace=False))
    return file, section, dup


def malformed(
    section: np.ndarray,
    n_dup: int,
    etype: np.ndarray,
    names: list[str],
    present: dict[str, np.ndarray],
    fmt: str,
    rate: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Templates of the extra bad rows, chosen among true rows in time order.

    `etype` indexes `names` per true row, `present[f]` says where field f is set
    (fields of NEEDS). Returns template rows, kind indices, id numbers, commonest type."""
    is_true = section == 0
    counts = np.bincount(etype[is_true], minlength=len(names))
    ranked = sorted((-int(c), name) for name, c in zip(names, counts, strict=True) if c)
    commonest = ranked[0][1] if ranked else ""
    empty = np.zeros(0, dtype=np.int64)
    n_bad = round(rate * (len(section) + n_dup))  # dups count in the frame's height
    if n_bad == 0:
        return empty, empty, empty, commonest
    kinds = KINDS[fmt]
    rows, kind_of, seq = [], [], []
    n_seq = 0
    for ki, kind in enumerate(kinds):
        k = n_bad // len(kinds) + (1 if ki < n_bad % len(kinds) else 0)
        if k == 0:
            continue
        ok = is_true.copy()
        if kind in NEEDS:
            ok &= present[NEEDS[kind]]
        if kind == "missing_required":
            ok &= np.asarray([name == commonest for name in names])[etype]
        pool = np.flatnonzero(ok)
        if len(pool) == 0:
            continue
        rows.append(np.sort(rng.choice(pool, size=k, replace=len(pool) < k)))
        kind_of.append(np.full(k, ki, dtype=np.int64))
        seq.append(np.arange(n_seq + 1, n_seq + k + 1, dtype=np.int64))
        n_seq += k
    if not rows:
        return empty, empty, empty, commonest
    return np.concatenate(rows), np.concatenate(kind_of), np.concatenate(seq), commonest


def needed_fields(fmt: str, rate: float) -> list[str]:
    """Fields whose presence `malformed` needs to know (none when nothing breaks)."""
    return sorted({NEEDS[k] for k in KINDS[fmt] if k in NEEDS}) if rate > 0 else []


def break_rows(
    rows: pl.DataFrame, source: str, kind: str, seq: np.ndarray, commonest: str, fmt: str
) -> pl.DataFrame:
    """Malformed rows of one kind from copies of their template rows (numbered `seq`)."""
    ids = pl.Series([f"bad-{source}-{i:06d}" for i in seq.tolist()], dtype=pl.Utf8)
    return _break(rows.with_columns(event_id=ids, _kind=pl.lit(kind)), kind, commonest, fmt)


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
