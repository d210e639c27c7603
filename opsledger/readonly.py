"""Read-only connections to a published warehouse, shared by the app and write-back.

DuckDB shares one database instance among a process's connections to the same file
and drops it (catalog, buffer pool) when the last one closes: opening a 2 GB
warehouse costs ~70 ms, most of a dashboard page's time when every query batch
reconnects. So this module keeps one connection per file open while that file is
the current publication. A publication is a rename (new inode), and DuckDB would
hand a live instance of the old file out again for the same path, so the keeper of
an old publication is closed before anyone connects to the new one.
"""

from __future__ import annotations

import os
import threading
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

_keepers: dict[str, tuple[tuple[int, int, int], duckdb.DuckDBPyConnection]] = {}
_lock = threading.Lock()


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True, config=dict(READ_ONLY_CONFIG))


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection (file-system access disabled) to the file's current
    version; the caller closes it. Raises FileNotFoundError when there is no file."""
    key = str(path)
    with _lock:
        ident = _identity(path)
        held = _keepers.get(key)
        if held is not None and held[0] != ident:
            del _keepers[key]
            held[1].close()
            held = None
        if ident is None:
            raise FileNotFoundError(key)
        if held is None:
            _keepers[key] = (ident, _open(path))
    return _open(path)


def release(path: Path | None = None) -> None:
    """Close the kept connection of `path` (all when None): needed before this process
    opens the same file read-write or with another configuration."""
    with _lock:
        for key in [k for k in _keepers if path is None or k == str(path)]:
            _keepers.pop(key)[1].close()
