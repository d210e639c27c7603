"""One source from numeric events to landing files, in bounded pieces.

Formatting a whole source at once (strings for every row) made memory grow with the
scale. Here every random choice (files, late, duplicate and malformed rows) is made
on compact numpy arrays over the source's delivered rows, with the same generator
calls in the same order as on a whole frame, so the files do not depend on how the
work is cut. Contract rows are formatted per piece: consecutive whole files with every
row that ends up in them (late and duplicate rows moved in from the previous file,
malformed copies of true rows), so a file never depends on another piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from opsledger.models.domain import load_domain

from . import ground_truth
from .formatting import SourceEvents, iso_utc
from .imperfections import KINDS, break_rows, late_and_duplicate, malformed
from .layout import Stream, assign_files
from .writers import Written, write_source

DOMAIN = load_domain()
PIECE_ROWS = 400_000  # rows formatted at once (a bigger file is one piece on its own)
SCAN_ROWS = 1_000_000  # rows per pass when reading the truth off formatted columns
MOVEMENT_COLS = ["_sku", "_from_node", "_to_node", "_from_state", "_to_state", "_qty"]


def with_recorded(df: pl.DataFrame, rec: np.ndarray, epoch0: int) -> pl.DataFrame:
    """Stock rows get recorded_at (the sender's clock, seconds after epoch0)."""
    df = df.with_columns(_rec=pl.Series(rec, dtype=pl.Int64))
    return df.with_columns(recorded_at=iso_utc(pl.col("_rec"), epoch0))


@dataclass
class Truth:
    """What one source's true rows tell the ground truth and the damage."""

    summary: dict
    happened: pl.DataFrame  # legs of the movements before the cutoff, sent or not
    delivered: pl.DataFrame  # legs of the delivered ones
    present: dict[str, np.ndarray]  # per delivered row: whether the field is set
    etype: np.ndarray  # per delivered row: index into `names`
    names: list[str]  # the source's event types


def _add(acc: pl.DataFrame | None, mv: pl.DataFrame) -> pl.DataFrame:
    """Running legs: stay as small as sku x node x state, however many passes."""
    part = ground_truth.legs(mv)
    if acc is None:
        return part
    return pl.concat([acc, part]).group_by("s", "n", "st").agg(pl.col("q").sum())


def scan(
    ev: SourceEvents, sent: np.ndarray, keep: np.ndarray, fields: list[str], moves: bool
) -> Truth:
    """Summary, movement legs and field presence of the rows `sent` (row numbers, in
    order), of which `keep` are delivered; only those columns are computed, a pass of
    SCAN_ROWS rows at a time."""
    summary_cols = ground_truth.summary_columns(ev.source)
    summary_names = [e.meta.output_name() for e in summary_cols]
    select = summary_cols + [pl.col(f).is_not_null().alias(f"_has_{f}") for f in fields]
    select += [pl.col(c) for c in MOVEMENT_COLS] if moves else []
    summaries: list[pl.DataFrame] = []
    present: dict[str, list[np.ndarray]] = {f: [] for f in fields}
    happened = delivered = None
    for a in range(0, max(len(sent), 1), SCAN_ROWS):
        df = ev.format(sent[a : a + SCAN_ROWS], select)
        kept = pl.Series(keep[a : a + SCAN_ROWS])
        if moves:
            mv = df.select(MOVEMENT_COLS).with_columns(_keep=kept)
            mv = mv.filter(pl.col("_qty").is_not_null())
            happened = _add(happened, mv)
            delivered = _add(delivered, mv.filter(pl.col("_keep")))
        df = df.filter(kept)
        summaries.append(df.select(summary_names))
        for f in fields:
            present[f].append(df[f"_has_{f}"].to_numpy())
    names = list(DOMAIN.sources[ev.source].event_types)
    code = np.asarray([names.index(et) for et, _ in ev.keys], dtype=np.int16)
    empty = ground_truth.legs(pl.DataFrame(schema={c: pl.Int64 for c in MOVEMENT_COLS}))
    return Truth(
        summary=ground_truth.source_summary(ev.source, pl.concat(summaries)),
        happened=happened if happened is not None else empty,
        delivered=delivered if delivered is not None else empty,
        present={f: np.concatenate(v) for f, v in present.items()},
        etype=code[ev.key_codes()[sent[keep]]],
        names=names,
    )


@dataclass
class Plan:
    """The rows to write: the delivered true rows, then copies of some of them (the
    duplicates, then the malformed rows); `pos` is the true row each one is (a copy of).
    Kept for every row of a source, hence compact dtypes."""

    pos: np.ndarray  # int32 per written row
    section: np.ndarray  # int8 per written row: 0 in time order, 1 late, 2 duplicate
    stream: np.ndarray  # int8 per true row
    file: np.ndarray  # int32 per true row: its file in the stream, after the late moves
    bad_kind: np.ndarray  # per malformed row: index into KINDS[fmt]
    bad_seq: np.ndarray  # per malformed row: number in its event id
    commonest: str  # the commonest true event type (missing_required breaks its field)
    n_late: int
    n_dup: int

    def keys(self, width: int) -> np.ndarray:
        """stream * width + file of every written row (duplicates go to the next file)."""
        key = self.stream[self.pos].astype(np.int32) * width + self.file[self.pos]
        return key + (self.section == 2)


def plan(
    truth: Truth,
    node: np.ndarray,
    t: np.ndarray,
    rec: np.ndarray | None,
    streams: list[Stream],
    fmt: str,
    rate: float,
    rng: np.random.Generator,
) -> Plan:
    """Files, late, duplicate and malformed rows of the delivered rows (node, event
    time and for stock recorded time of each)."""
    stream, file = assign_files(streams, node, t, rec)
    n_files = [len(s.paths) for s in streams]
    file, section, dup = late_and_duplicate(stream, file, n_files, rate, rng)
    bad, kind, seq, commonest = malformed(
        section, len(dup), truth.etype, truth.names, truth.present, fmt, rate, rng
    )
    n = len(t)
    return Plan(
        pos=np.concatenate([np.arange(n), dup, bad]).astype(np.int32),
        section=np.concatenate([section, np.full(len(dup), 2), np.zeros(len(bad))]).astype(np.int8),
        stream=stream.astype(np.int8),
        file=file.astype(np.int32),
        bad_kind=kind,
        bad_seq=seq,
        commonest=commonest,
        n_late=int(section.sum()),
        n_dup=len(dup),
    )


def _pieces(counts: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Ranges [lo, hi) of file keys holding consecutive whole files of at most `budget`
    rows together (a bigger file is a piece on its own); `counts`: rows per key."""
    out, lo, rows = [], -1, 0
    for k in np.flatnonzero(counts).tolist():
        if rows and rows + counts[k] > budget:
            out.append((lo, k))
            rows = 0
        if rows == 0:
            lo = k
        rows += int(counts[k])
    if rows:
        out.append((lo, len(counts)))
    return out


def write(
    ev: SourceEvents,
    rows: np.ndarray,
    rec: np.ndarray | None,
    p: Plan,
    fmt: str,
    streams: list[Stream],
    landing: Path,
    written: Written,
) -> None:
    """Writes the files of one source in order of stream and file, a piece at a time."""
    source = ev.source
    width = max(len(s.paths) for s in streams) + 1
    key = p.keys(width)
    n_plain = len(p.pos) - len(p.bad_kind)
    for lo, hi in _pieces(np.bincount(key), PIECE_ROWS):
        at = np.flatnonzero((key >= lo) & (key < hi))
        pos = p.pos[at]
        need = np.unique(pos)  # each true row is formatted once per piece
        df = ev.format(rows[need])
        if rec is not None:
            df = with_recorded(df, rec[need], ev.epoch0)
        bad = at - n_plain  # >= 0: index among the malformed rows
        is_bad = bad >= 0
        df = df[np.searchsorted(need, pos)].with_columns(
            _stream=pl.Series(key[at] // width, dtype=pl.Int64),
            _file=pl.Series(key[at] % width, dtype=pl.Int64),
            _section=pl.Series(p.section[at], dtype=pl.Int64),
        )
        parts = [df.filter(pl.Series(~is_bad)).with_columns(_kind=pl.lit(""))]
        if is_bad.any():
            marked, bad = df.filter(pl.Series(is_bad)), bad[is_bad]
            for k in np.unique(p.bad_kind[bad]).tolist():
                mine = p.bad_kind[bad] == k
                seq = p.bad_seq[bad[mine]]
                part = marked.filter(pl.Series(mine))
                parts.append(break_rows(part, source, KINDS[fmt][k], seq, p.commonest, fmt))
        del df
        write_source(pl.concat(parts), source, fmt, streams, landing, written, ev.epoch0)
