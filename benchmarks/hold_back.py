"""Hold back the newest events of a generated home, to deliver them later.

The natural incremental case: the warehouse was built up to some moment, then
the source systems deliver what happened since. `hold_back_newest` moves every
event at or after a cut-off time out of the last months' landing files (which
keep their format and the rest of their rows) into `<home>/held_back/`, choosing
the cut-off so that about `share` of all events are held back;
`deliver_held_back` puts them into landing as new files.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from bisect import bisect_right
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

TEXT_SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz")
# the newest events sit in the last months' folders; older folders are not read
# (they hold only the simulator's misdated junk past the cut-off, left for ingest)
RECENT_MONTHS = 3


def _suffix(path: Path) -> str:
    return next(s for s in (*TEXT_SUFFIXES, ".parquet") if path.name.endswith(s))


def _open_text(path: Path, mode: str) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8", newline="")
    return path.open(mode, encoding="utf-8", newline="")


def _when(value: object) -> datetime | None:
    """The event time, or None for a row the simulator spoiled on purpose (junk
    stays where it is, for ingest to quarantine)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _line_time(line: str) -> datetime | None:
    try:
        return _when(json.loads(line).get("event_time"))
    except (ValueError, AttributeError):
        return None


def _row_time(row: list[str], at: int) -> datetime | None:
    return _when(row[at]) if len(row) > at else None


def _is_late(when: datetime | None, cutoff: datetime) -> bool:
    return when is not None and when >= cutoff


def event_times(path: Path) -> list[datetime | None]:
    """Each row's event time, in file order (None for junk rows)."""
    suffix = _suffix(path)
    if suffix == ".parquet":
        return [_when(v) for v in pl.read_parquet(path, columns=["event_time"])["event_time"]]
    with _open_text(path, "r") as handle:
        if suffix.startswith(".csv"):
            reader = csv.reader(handle)
            at = next(reader).index("event_time")
            return [_row_time(row, at) for row in reader]
        return [_line_time(line) for line in handle if line.strip()]


def _slice_of(when: datetime | None, cutoffs: list[datetime]) -> int:
    """0: stays in landing; k: held back in slice k (at or after cutoffs[k - 1])."""
    return 0 if when is None else bisect_right(cutoffs, when)


def _split(
    path: Path, times: list[datetime | None], cutoffs: list[datetime], held: list[Path]
) -> int:
    """Rewrite path without its events at or after cutoffs[0]; write those at or after
    cutoffs[k - 1] (and before cutoffs[k]) to held[k - 1]. times are the rows' event
    times (event_times), in file order."""
    slices = [_slice_of(t, cutoffs) for t in times]
    if not any(slices):
        return 0
    targets = [path, *held]
    suffix = _suffix(path)
    if suffix == ".parquet":
        frame = pl.read_parquet(path).with_columns(_slice=pl.Series(slices))
        for k, target in enumerate(targets):
            part = frame.filter(pl.col("_slice") == k).drop("_slice")
            if k == 0 or part.height:
                part.write_parquet(target)
        return sum(1 for k in slices if k)
    with _open_text(path, "r") as handle:
        if suffix.startswith(".csv"):
            reader = csv.reader(handle)
            header = next(reader)
            rows: list = list(reader)
        else:
            rows = [line for line in handle if line.strip()]
    for k, target in enumerate(targets):
        part = [row for row, at in zip(rows, slices, strict=True) if at == k]
        if k and not part:
            continue
        with _open_text(target, "w") as out:
            if suffix.startswith(".csv"):
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(part)
            else:
                out.writelines(part)
    return sum(1 for k in slices if k)


def hold_back_newest(home: Path, share: float, total_events: int, slices: int = 1) -> dict:
    """Move the newest ~share of total_events out of landing; returns the cut-off and count.

    With slices > 1 the held-back events are cut into that many consecutive periods of
    about equal counts, delivered one at a time (`deliver_held_back(home, k)`) as a
    sequence of small refreshes."""
    landing = home / "landing"
    months = sorted(p.name for p in landing.glob("*/*") if p.is_dir())
    recent = set(months[-RECENT_MONTHS:])
    files = sorted(
        p
        for p in landing.glob("*/*/*")
        if p.parent.name in recent and p.name.endswith((*TEXT_SUFFIXES, ".parquet"))
    )
    times = {path: event_times(path) for path in files}  # read once, split below
    ordered = sorted(t for file_times in times.values() for t in file_times if t is not None)
    wanted = max(1, int(total_events * share))
    if wanted >= len(ordered) or wanted < slices:
        raise ValueError(f"the last months hold {len(ordered)} events, fewer than {wanted}")
    cutoffs = [ordered[-wanted + wanted * k // slices] for k in range(slices)]
    if len(set(cutoffs)) < slices:
        raise ValueError(f"the newest {wanted} events do not span {slices} distinct times")
    held_rows = 0
    for path in files:
        targets = []
        for k in range(1, slices + 1):
            target = _held(home, k, slices) / path.relative_to(landing)
            # each slice's files are new files: a name of their own
            prefix = "late-" if slices == 1 else f"late{k:03d}-"
            target = target.with_name(prefix + target.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            targets.append(target)
        held_rows += _split(path, times[path], cutoffs, targets)
    return {"cutoff": cutoffs[0].isoformat(), "held_back": held_rows}


def _held(home: Path, k: int, slices: int) -> Path:
    """Where slice k of `slices` waits (one slice: held_back/ itself)."""
    return home / "held_back" if slices == 1 else home / "held_back" / f"slice-{k:03d}"


def deliver_held_back(home: Path, k: int | None = None) -> int:
    """Move the held-back files (or only slice k's) into landing, where the next
    refresh picks them up."""
    held = home / "held_back" if k is None else home / "held_back" / f"slice-{k:03d}"
    moved = 0
    for path in sorted(p for p in held.rglob("*") if p.is_file()):
        target = home / "landing" / path.relative_to(held)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        moved += 1
    shutil.rmtree(held)
    if k is not None and not any((home / "held_back").iterdir()):
        (home / "held_back").rmdir()
    return moved
