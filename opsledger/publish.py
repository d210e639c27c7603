"""Write-audit-publish: build in a private copy, publish it with one atomic rename.

The published file is never opened read-write and never modified in place, so
readers (the app, any DuckDB client) keep whatever version they opened; a new
connection sees the newly published one. A crash at any point leaves the last
published file untouched.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from opsledger.paths import HomePaths


def new_build_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


def prepare_build_copy(paths: HomePaths, build_id: str) -> Path:
    """Start the build from the published warehouse (incremental models keep their
    state) or from nothing; the copy is private to this refresh."""
    paths.builds.mkdir(parents=True, exist_ok=True)
    build_path = paths.builds / f"build-{build_id}.duckdb"
    if paths.warehouse.exists():
        # Safe while readers are open: the published file is immutable once renamed in.
        shutil.copyfile(paths.warehouse, build_path)
    return build_path


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def finalize(build_path: Path) -> None:
    """Checkpoint so the file is self-contained (no WAL), then flush it to disk."""
    con = duckdb.connect(str(build_path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    wal = build_path.with_name(build_path.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} still exists after checkpoint; refusing to publish")
    with build_path.open("rb+") as handle:
        os.fsync(handle.fileno())


def publish(build_path: Path, paths: HomePaths) -> None:
    finalize(build_path)
    os.replace(build_path, paths.warehouse)
    _fsync_dir(paths.root)


def keep_failed(build_path: Path, paths: HomePaths, build_id: str) -> Path:
    """Keep a failed build for inspection, under a name readers never open."""
    failed = paths.builds / f"failed-{build_id}.duckdb"
    if build_path.exists():
        os.replace(build_path, failed)
        wal = build_path.with_name(build_path.name + ".wal")
        if wal.exists():
            os.replace(wal, failed.with_name(failed.name + ".wal"))
    return failed


def clean_stale_builds(paths: HomePaths, keep_failed_builds: int = 3) -> list[Path]:
    """Remove builds a crashed refresh left behind, and all but the newest failed ones."""
    removed: list[Path] = []
    if not paths.builds.exists():
        return removed
    for stale in paths.builds.glob("build-*.duckdb*"):
        stale.unlink()
        removed.append(stale)
    failed = sorted(paths.builds.glob("failed-*.duckdb"), reverse=True)
    for old in failed[keep_failed_builds:]:
        for path in (old, old.with_name(old.name + ".wal")):
            if path.exists():
                path.unlink()
                removed.append(path)
    return removed
