"""Encodes rows in each source's own format and writes the landing files
deterministically (sorted rows, gzip mtime 0, fixed parquet settings)."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from opsledger.models.domain import load_domain

DOMAIN = load_domain()
ORDER_KEYS = ["_stream", "_file", "_section", "_t", "event_id"]


@dataclass
class Written:
    files: list[str] = field(default_factory=list)  # relative to landing/
    rows: dict[str, int] = field(default_factory=dict)  # rows per source
    junk: list[dict] = field(default_factory=list)  # where each malformed row is
    file_rows: dict[str, int] = field(default_factory=dict)
    file_junk: dict[str, int] = field(default_factory=dict)


def encode_lines(df: pl.DataFrame, source: str, fmt: str) -> pl.Series:
    """One text line per row (csv or jsonl), in the frame's row order."""
    cols = list(DOMAIN.source_fields(source))
    kind = pl.col("_kind")
    if fmt == "csv":
        s = df.select([pl.col(c).cast(pl.Utf8) for c in cols] + [kind])
        s = (
            s.with_columns(
                quantity=pl.when(kind == "wrong_type")
                .then(pl.lit("abc"))
                .otherwise(pl.col("quantity"))
            )
            if "quantity" in cols
            else s
        )
        line = pl.concat_str([pl.col(c).fill_null("") for c in cols], separator=",")
        line = pl.when(kind == "wrong_column_count").then(line + ",EXTRA").otherwise(line)
        return s.select(line.alias("_line")).to_series()
    # jsonl: only the fields a row carries; encode per null-pattern group.
    body = df.select(cols).with_row_index("_i")
    mask = pl.concat_str([pl.col(c).is_not_null().cast(pl.Int8).cast(pl.Utf8) for c in cols])
    body = body.with_columns(_mask=mask)
    parts = []
    for (m,), grp in body.group_by(["_mask"], maintain_order=True):
        present = [c for c, flag in zip(cols, str(m), strict=True) if flag == "1"]
        parts.append(grp.select("_i", pl.struct(present).struct.json_encode().alias("_line")))
    enc = pl.concat(parts).sort("_i")["_line"]
    k = df["_kind"]
    enc = (
        pl.DataFrame({"_line": enc, "_kind": k})
        .select(
            pl.when(pl.col("_kind") == "wrong_type")
            .then(pl.col("_line").str.replace(r'"quantity":-?\d+', '"quantity":"abc"'))
            .when(pl.col("_kind") == "unparseable_json")
            .then(pl.col("_line").str.slice(0, pl.col("_line").str.len_chars() // 2))
            .otherwise(pl.col("_line"))
        )
        .to_series()
    )
    return enc


def encode_file(part: pl.DataFrame, source: str, fmt: str, epoch0: int) -> bytes:
    """The bytes of one landing file of `source` in its format (csv with a header)."""
    if fmt == "parquet":
        return _parquet_bytes(part, source, epoch0)
    text = encode_lines(part, source, fmt).str.join("\n")[0] + "\n"
    header = ",".join(DOMAIN.source_fields(source)) + "\n" if fmt == "csv" else ""
    return (header + text).encode("utf-8")


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=3) as gz:
            gz.write(data)
        data = buf.getvalue()
    path.write_bytes(data)


def _arrow_schema(source: str) -> pa.Schema:
    fields = []
    for c in DOMAIN.source_fields(source):
        spec = DOMAIN.fields.get(c)
        kind = spec.type if spec else "string"
        if c == "event_time" or kind == "timestamp":
            t = pa.timestamp("us", tz="UTC")
        elif kind == "decimal":
            t = pa.decimal128(18, 2)
        elif kind == "int":
            t = pa.int64()
        elif kind == "bool":
            t = pa.bool_()
        elif kind == "date":
            t = pa.date32()
        else:
            t = pa.string()
        fields.append(pa.field(c, t))
    return pa.schema(fields)


def _parquet_bytes(df: pl.DataFrame, source: str, epoch0: int) -> bytes:
    schema = _arrow_schema(source)
    exprs = []
    for f in schema:
        if f.name == "event_time":
            e = pl.from_epoch(pl.col("_t") + epoch0, time_unit="s").dt.replace_time_zone("UTC")
        elif pa.types.is_timestamp(f.type):
            e = pl.col(f.name).cast(pl.Utf8).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
        elif pa.types.is_decimal(f.type):
            e = pl.col(f.name).cast(pl.Decimal(18, 2))
        else:
            e = pl.col(f.name)
        exprs.append(e.alias(f.name))
    table = df.select(exprs).to_arrow().cast(schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", compression_level=3, use_dictionary=True)
    return sink.getvalue()


def write_source(
    df: pl.DataFrame,
    source: str,
    fmt: str,
    streams: list,
    landing: Path,
    written: Written,
    epoch0: int,
) -> None:
    """Writes all files of one source; df has _stream/_file/_section/_kind set."""
    keep = [*DOMAIN.source_fields(source), "_stream", "_file", "_section", "_t", "_kind"]
    df = df.select(keep).sort(ORDER_KEYS)
    keys = df.select("_stream", "_file").unique().sort("_stream", "_file")
    bounds = (
        df.with_row_index("_r")
        .group_by(["_stream", "_file"])
        .agg(pl.col("_r").min().alias("lo"), pl.col("_r").max().alias("hi"))
    )
    bounds = keys.join(bounds, on=["_stream", "_file"], how="left")
    total = 0
    for s, f, lo, hi in bounds.iter_rows():
        part = df.slice(lo, hi - lo + 1)
        rel = f"{source}/{streams[s].paths[f]}"
        # encoded per file to keep the peak memory small
        _write_bytes(landing / rel, encode_file(part, source, fmt, epoch0))
        written.files.append(rel)
        written.file_rows[rel] = part.height
        total += part.height
        bad = part.with_row_index("row", offset=1).filter(pl.col("_kind") != "")
        written.file_junk[rel] = bad.height
        for row, kind, eid in bad.select("row", "_kind", "event_id").iter_rows():
            written.junk.append({"file": rel, "row": row, "kind": kind, "event_id": eid})
    written.rows[source] = written.rows.get(source, 0) + total


def duplicate_files(
    landing: Path, written: Written, n: int, rng: np.random.Generator
) -> list[tuple[str, str, int]]:
    """Re-deliver n whole files byte-for-byte under a name sorting right after them."""
    clean = sorted(
        f for f in written.files if written.file_junk[f] == 0 and not f.startswith("master/")
    )
    if n <= 0 or not clean:
        return []
    chosen = sorted(rng.choice(len(clean), size=min(n, len(clean)), replace=False))
    out = []
    for i in chosen:
        rel = clean[int(i)]
        name = Path(rel).name
        stem, ext = name.split(".", 1)
        copy = str(Path(rel).with_name(f"{stem}.resend.{ext}"))
        assert sorted([rel, copy])[0] == rel
        (landing / copy).write_bytes((landing / rel).read_bytes())
        out.append((rel, copy, written.file_rows[rel]))
        source = rel.split("/", 1)[0]
        written.rows[source] += written.file_rows[rel]
    return out
