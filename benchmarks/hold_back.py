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


def _split(path: Path, times: list[datetime | None], cutoff: datetime, held: Path) -> int:
    """Rewrite path without its events at or after cutoff; write those to held.
    times are the rows' event times (event_times), in file order."""
    late = [_is_late(t, cutoff) for t in times]
    if not any(late):
        return 0
    suffix = _suffix(path)
    if suffix == ".parquet":
        frame = pl.read_parquet(path)
        mask = pl.Series(late)
        frame.filter(~mask).write_parquet(path)
        frame.filter(mask).write_parquet(held)
        return sum(late)
    with _open_text(path, "r") as handle:
        if suffix.startswith(".csv"):
            reader = csv.reader(handle)
            header = next(reader)
            rows: list = list(reader)
        else:
            rows = [line for line in handle if line.strip()]
    keep = [row for row, is_late in zip(rows, late, strict=True) if not is_late]
    moved = [row for row, is_late in zip(rows, late, strict=True) if is_late]
    for target, part in ((path, keep), (held, moved)):
        with _open_text(target, "w") as out:
            if suffix.startswith(".csv"):
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(part)
            else:
                out.writelines(part)
    return len(moved)


def hold_back_newest(home: Path, share: float, total_events: int) -> dict:
    """Move the newest ~share of total_events out of landing; returns the cut-off and count."""
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
    if wanted >= len(ordered):
        raise ValueError(f"the last months hold {len(ordered)} events, fewer than {wanted}")
    cutoff = ordered[-wanted]
    held_rows = 0
    for path in files:
        target = home / "held_back" / path.relative_to(landing)
        target = target.with_name("late-" + target.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        held_rows += _split(path, times[path], cutoff, target)
    return {"cutoff": cutoff.isoformat(), "held_back": held_rows}


def deliver_held_back(home: Path) -> int:
    """Move the held-back files into landing, where the next refresh picks them up."""
    held = home / "held_back"
    moved = 0
    for path in sorted(p for p in held.rglob("*") if p.is_file()):
        target = home / "landing" / path.relative_to(held)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        moved += 1
    shutil.rmtree(held)
    return moved
