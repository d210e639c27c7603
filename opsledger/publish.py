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

from opsledger.core.paths import HomePaths


def new_build_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


BUILDING = "building"  # the folder of the build in progress; the refresh lock makes it one


def prepare_build_copy(paths: HomePaths) -> Path:
    """Start the build from the published warehouse (incremental models keep their
    state) or from nothing; the copy is private to this refresh.

    The copy is `builds/building/warehouse.duckdb`, named like the published file:
    DuckDB names the catalog after the file, and dbt writes that catalog into view
    definitions, so the staging views keep working once the file is published. The
    path is the same for every build of a home because dbt re-parses the whole
    project (~8 s) whenever the profile, which holds the path, changes."""
    build_dir = paths.builds / BUILDING
    if build_dir.exists():  # left by a crashed refresh; nobody else uses it (refresh lock)
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    build_path = build_dir / paths.warehouse.name
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


# Static sites rendered beside the build (builds/building/<name>/) that are published
# with it as <home>/<name>/: the gate's Data Docs and dbt's docs site (docs_site.py).
SITES = ("gx_docs", "dbt_docs")
SITE_VERSIONS_KEPT = 2  # the current one and its predecessor (a browser may have it open)


def publish_site(source: Path, target: Path) -> None:
    """Swap a rendered site in with one atomic rename: `target` is a symlink to a
    versioned folder beside it (`.<name>-<n>`), replaced by os.replace, so a reader
    opening `<target>/index.html` sees the old site or the new one, never a mix."""
    root = target.parent
    versions = sorted(root.glob(f".{target.name}-*"))  # named by build time
    version = root / f".{target.name}-{new_build_id()}"
    os.replace(source, version)
    link = root / f".{target.name}.link"
    link.unlink(missing_ok=True)
    link.symlink_to(version.name, target_is_directory=True)
    if target.is_dir() and not target.is_symlink():  # a home from before versioned sites
        shutil.rmtree(target)
    os.replace(link, target)
    _fsync_dir(root)
    for old in versions[: max(len(versions) - (SITE_VERSIONS_KEPT - 1), 0)]:
        shutil.rmtree(old, ignore_errors=True)


def publish(build_path: Path, paths: HomePaths) -> None:
    finalize(build_path)
    os.replace(build_path, paths.warehouse)
    _fsync_dir(paths.root)
    # the sites follow the warehouse they describe
    for name in SITES:
        site = build_path.parent / name
        if build_path.parent != paths.root and site.is_dir():
            publish_site(site, paths.root / name)
    if build_path.parent != paths.root:
        shutil.rmtree(build_path.parent, ignore_errors=True)


def keep_failed(build_path: Path, paths: HomePaths, build_id: str) -> Path:
    """Keep a failed build for inspection, under a name readers never open:
    `builds/failed-<id>/warehouse.duckdb` (with its WAL, if any)."""
    failed_dir = paths.builds / f"failed-{build_id}"
    if build_path.parent.exists():
        os.replace(build_path.parent, failed_dir)
    return failed_dir / build_path.name


def clean_stale_builds(paths: HomePaths, keep_failed_builds: int = 3) -> list[Path]:
    """Remove builds a crashed refresh left behind (`build-*` is the earlier layout),
    and all but the newest failed ones."""
    removed: list[Path] = []
    if not paths.builds.exists():
        return removed
    for stale in [*paths.builds.glob("build-*"), *paths.builds.glob(BUILDING)]:
        _remove(stale)
        removed.append(stale)
    failed = sorted(paths.builds.glob("failed-*"), reverse=True)
    for old in failed[keep_failed_builds:]:
        _remove(old)
        removed.append(old)
    return removed


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:  # a build file of the earlier flat layout
        path.unlink()
