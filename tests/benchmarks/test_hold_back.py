"""The natural-append scenario of the build benchmark loses and invents nothing."""

from __future__ import annotations

import gzip
import re
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from benchmarks.hold_back import RECENT_MONTHS, deliver_held_back, event_times, hold_back_newest
from opsledger.ingest.simulator import generate
from opsledger.ingest.simulator.config import REFERENCE_END


def _rows(folder: Path) -> dict[str, int]:
    """Data rows per file name (held-back files are named late-<name>)."""
    counts: dict[str, int] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = re.sub(r"^late\d*-", "", path.name)
        if name.endswith(".parquet"):
            n = pl.read_parquet(path).height
        else:
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8", newline="") as handle:
                n = sum(1 for line in handle if line.strip())
            n -= 1 if ".csv" in name else 0  # the header
        counts[name] = counts.get(name, 0) + n
    return counts


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("generated")
    generate(home, scale=0.01, seed=2, end=REFERENCE_END)
    return home


@pytest.fixture
def home(generated: Path, tmp_path: Path) -> Path:
    shutil.copytree(generated / "landing", tmp_path / "landing")
    return tmp_path


def test_newest_events_are_held_back_and_delivered_whole(home: Path) -> None:
    before = _rows(home / "landing")
    total = sum(before.values())
    held = hold_back_newest(home, 0.02, total)
    cutoff = datetime.fromisoformat(held["cutoff"])
    assert 0 < held["held_back"] <= 0.03 * total

    late_files = [p for p in (home / "held_back").rglob("*") if p.is_file()]
    assert late_files
    for path in late_files:
        assert all(t is not None and t >= cutoff for t in event_times(path)), path
    months = sorted({p.name for p in (home / "landing").glob("*/*") if p.is_dir()})
    recent = [
        p for p in (home / "landing").glob("*/*/*") if p.parent.name in months[-RECENT_MONTHS:]
    ]
    assert recent
    for path in recent:
        assert all(t is None or t < cutoff for t in event_times(path)), path

    split = _rows(home / "landing")
    for name, n in _rows(home / "held_back").items():
        split[name] = split.get(name, 0) + n
    assert split == before, "every row is either kept or held back"

    assert deliver_held_back(home) == len(late_files)
    assert not (home / "held_back").exists()
    assert sum(_rows(home / "landing").values()) == total


def test_newest_events_are_held_back_in_consecutive_slices(home: Path) -> None:
    """20 slices: each holds a later period than the one before, none is empty, and
    delivering them one by one brings back every row."""
    before = _rows(home / "landing")
    total = sum(before.values())
    held = hold_back_newest(home, 0.02, total, slices=20)
    cutoff = datetime.fromisoformat(held["cutoff"])
    slices = sorted(p for p in (home / "held_back").iterdir())
    assert [p.name for p in slices] == [f"slice-{k:03d}" for k in range(1, 21)]

    previous_newest = None
    counts = []
    for folder in slices:
        times = [t for p in folder.rglob("*") if p.is_file() for t in event_times(p)]
        assert times and all(t is not None and t >= cutoff for t in times), folder
        if previous_newest is not None:
            assert min(times) > previous_newest, "slices are consecutive periods"
        previous_newest = max(times)
        counts.append(len(times))
    assert sum(counts) == held["held_back"]
    # about equal: no slice holds more than three times its share
    assert max(counts) <= 3 * held["held_back"] / 20

    for k in range(1, 21):
        assert deliver_held_back(home, k) > 0
    assert not (home / "held_back").exists()
    assert _rows(home / "landing") == before
