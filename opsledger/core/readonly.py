"""Read-only connections to a published warehouse, shared by the app and write-back.

DuckDB shares one database instance among a process's connections to the same file
and drops it (catalog, buffer pool) when the last one closes: opening a 2 GB
warehouse costs ~70 ms, most of a dashboard page's time when every query batch
reconnects. So this module keeps one connection per file open while that file is
the current publication.

A publication is a rename (a new inode under the same name). DuckDB finds its
instance by the file's resolved path, so while any connection to the old
publication is still open (a long workbench query is enough), connecting to the
path hands out the OLD database again, for good. So connections are made by file
identity: each publication is opened through its own hard link
(`<dir>/.readers/<pid>-<n>/<name>`, same inode, new path, same catalog name), and a
new identity always gets a new link, hence a new instance. Old connections keep
their instance until they close. Where no link can be made (a read-only
directory), the file is opened by its path as before.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

# One configuration for every connection of this process: DuckDB refuses a second
# connection to the same file with a different configuration.
READ_ONLY_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}

READERS_DIR = ".readers"

Identity = tuple[int, int, int]


@dataclass
class _Keeper:
    identity: Identity
    open_path: Path  # the hard link of this identity, or the path itself
    connection: duckdb.DuckDBPyConnection


_keepers: dict[str, _Keeper] = {}
_lock = threading.Lock()
_counter = itertools.count(1)
_cleaned: set[str] = set()


def _identity(path: Path) -> Identity | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True, config=dict(READ_ONLY_CONFIG))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_dead_links(readers: Path) -> None:
    """Links left by processes that died (they would pin old publications on disk)."""
    if str(readers) in _cleaned:
        return
    _cleaned.add(str(readers))
    for entry in readers.glob("*-*"):
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _link(path: Path) -> tuple[Path, Identity] | None:
    """A new hard link to the file's current version, and that version's identity."""
    readers = path.parent / READERS_DIR
    try:
        readers.mkdir(exist_ok=True)
        _clean_dead_links(readers)
        folder = readers / f"{os.getpid()}-{next(_counter)}"
        folder.mkdir()
        link = folder / path.name
        os.link(path, link)
    except OSError:
        return None
    ident = _identity(link)
    return (link, ident) if ident else None


def _drop(keeper: _Keeper) -> None:
    keeper.connection.close()
    if keeper.open_path.parent.parent.name == READERS_DIR:
        # open connections keep their instance and file; the name goes now
        shutil.rmtree(keeper.open_path.parent, ignore_errors=True)


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection (file-system access disabled) to the file's current
    version; the caller closes it. Raises FileNotFoundError when there is no file."""
    key = str(path)
    with _lock:
        ident = _identity(path)
        held = _keepers.get(key)
        if held is not None and held.identity != ident:
            _drop(_keepers.pop(key))
            held = None
        if ident is None:
            raise FileNotFoundError(key)
        if held is None:
            linked = _link(path)
            open_path, ident = linked if linked else (path, ident)
            held = _Keeper(ident, open_path, _open(open_path))
            _keepers[key] = held
        return _open(held.open_path)


def release(path: Path | None = None) -> None:
    """Close the kept connection of `path` (all when None): needed before this process
    opens the same file read-write or with another configuration."""
    with _lock:
        for key in [k for k in _keepers if path is None or k == str(path)]:
            _drop(_keepers.pop(key))
