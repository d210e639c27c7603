"""Writing import results into the landing area: deterministic, atomic, idempotent."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb

from opsledger.core.paths import HomePaths
from opsledger.importers.summary import ImportSummary
from opsledger.models.domain import Domain

IMPORTER_VERSION = "2"  # bump when the same input must map to different events


def file_digest(path: Path, *extra: str) -> str:
    """sha256 of a file's bytes plus extra text (mapping fingerprint, version)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            h.update(chunk)
    for item in (IMPORTER_VERSION, *extra):
        h.update(b"\x1f" + item.encode())
    return h.hexdigest()


def place(tmp: Path, dest: Path) -> bool:
    """Move tmp to dest atomically; keep dest when it already holds the same bytes.

    Returns True when dest was (re)written. An existing dest with other bytes
    (e.g. written by another library version) is kept too: it carries the same
    deterministic event ids, so replacing it would only make ingest read the
    same events again.
    """
    if dest.exists():
        tmp.unlink()
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)
    return True


def write_sources(
    con: duckdb.DuckDBPyConnection,
    table: str,
    domain: Domain,
    home: HomePaths,
    stem: str,
    summary: ImportSummary,
) -> None:
    """Write `table` (VARCHAR columns, one row per event) as one parquet file per source.

    File: <home>/landing/<source>/<stem>.parquet, rows ordered by event_id,
    only the columns of that source (all text, as ingest validates text).
    """
    present = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    if "cost_basis" in present:
        summary.skus_by_cost_basis = {
            str(basis): int(n)
            for basis, n in con.execute(
                f"SELECT coalesce(cost_basis, 'known'), count(*) FROM {table} "
                "WHERE event_type = 'product_upserted' GROUP BY 1"
            ).fetchall()
        }
    by_source = {t: s for s, src in domain.sources.items() for t in src.event_types}
    types = [r[0] for r in con.execute(f"SELECT DISTINCT event_type FROM {table}").fetchall()]
    unknown = [t for t in types if t not in by_source]
    if unknown:
        raise ValueError(f"importer produced unknown event types {unknown}")
    sources = sorted({by_source[t] for t in types}, key=lambda s: (s != "master", s))
    con.execute("SET preserve_insertion_order = true")
    for source in sources:
        src_types = [t for t in types if by_source[t] == source]
        cols = [f for f in domain.source_fields(source) if f in present]
        # drop columns that are empty for every event of this source
        nonempty = con.execute(
            "SELECT " + ", ".join(f'count("{c}")' for c in cols) + f" FROM {table} "
            "WHERE event_type IN (SELECT unnest($t))",
            {"t": src_types},
        ).fetchone()
        cols = [c for c, n in zip(cols, nonempty, strict=True) if n]
        dest = home.landing_for(source) / f"{stem}.parquet"
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        select = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in cols)
        con.execute(
            f"COPY (SELECT {select} FROM {table} WHERE event_type IN (SELECT unnest($t)) "
            f"ORDER BY event_id) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd, "
            "ROW_GROUP_SIZE 122880)",
            {"t": src_types},
        )
        written = place(tmp, dest)
        summary.files.append(dest.relative_to(home.root).as_posix())
        summary.files_unchanged += 0 if written else 1
