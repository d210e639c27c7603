"""The read-only keeper serves the current publication by file identity, also while
queries on the old one run in other threads when the new one appears."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

from opsledger.core.readonly import connect_read_only, release


def _build(path: Path, build_id: str, rows: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema ops")
    con.execute("create table ops.publications as select ? as build_id", [build_id])
    con.execute("create table ops.big as select range as i from range(?)", [rows])
    con.close()


def _publish(home: Path, build_id: str) -> None:
    """As opsledger.publish does: build aside, rename over the published name."""
    tmp = home / "builds" / "warehouse.duckdb"
    tmp.parent.mkdir(exist_ok=True)
    _build(tmp, build_id, 2_000_000)
    os.replace(tmp, home / "warehouse.duckdb")


def _build_id(path: Path) -> str:
    con = connect_read_only(path)
    try:
        return con.execute("select build_id from ops.publications").fetchone()[0]
    finally:
        con.close()


def test_new_publication_is_served_while_old_queries_still_run(tmp_path: Path) -> None:
    published = tmp_path / "warehouse.duckdb"
    _publish(tmp_path, "b1")
    assert _build_id(published) == "b1"

    started, stop = threading.Barrier(5), threading.Event()
    errors: list[BaseException] = []

    def long_reader() -> None:
        try:
            con = connect_read_only(published)
            started.wait()
            while not stop.is_set():  # queries on the old publication keep running
                con.execute("select sum(i) from ops.big").fetchone()
            con.close()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=long_reader) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait()
    try:
        for build_id in ("b2", "b3"):
            _publish(tmp_path, build_id)
            # the very next page load sees the new build, in every thread
            seen: list[str] = []

            def page_load(out: list[str] = seen) -> None:
                out.append(_build_id(published))

            loaders = [threading.Thread(target=page_load) for _ in range(3)]
            for t in loaders:
                t.start()
            for t in loaders:
                t.join()
            assert seen == [build_id] * 3
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    release(published)
    assert not list((tmp_path / ".readers").iterdir()), "links of old publications left"


def test_without_a_writable_directory_the_path_is_opened(tmp_path: Path) -> None:
    published = tmp_path / "ro" / "warehouse.duckdb"
    published.parent.mkdir()
    _build(published, "b1", 10)
    published.parent.chmod(0o555)
    try:
        assert _build_id(published) == "b1"
    finally:
        release(published)
        published.parent.chmod(0o755)
