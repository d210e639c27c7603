"""The raw layer's Parquet export (opsledger.raw_export): the sources of a Spark build."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from opsledger.ingest.pipeline import run_ingest
from opsledger.ingest.simulator import generate
from opsledger.raw_export import SCHEMA_DIR, export_raw
from opsledger.raw_sync import BOOKKEEPING_TABLES, event_tables


def _raw(home: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(home / "raw.duckdb"), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _parquet(query: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(query).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_batches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose orders arrive in a second ingest batch, exported after each batch."""
    home = tmp_path_factory.mktemp("raw-export")
    generate(home, scale=0.01, seed=3, end=date(2025, 12, 31))
    held = home / "held-orders"
    shutil.move(home / "landing" / "orders", held)
    run_ingest(home)
    first = export_raw(home)
    assert "orders_events" not in first.batches_written
    assert first.batches_written["stock_events"]
    shutil.move(held, home / "landing" / "orders")
    run_ingest(home)
    return home


def test_second_export_writes_only_the_new_batch(two_batches: Path) -> None:
    home = two_batches
    root = home / "raw_parquet"
    stock_files = {p: p.stat().st_mtime_ns for p in (root / "stock_events").rglob("*.parquet")}
    second = export_raw(home)
    assert list(second.batches_written) == ["orders_events"]
    assert len(second.batches_written["orders_events"]) == 1
    # the first batch's files were not rewritten
    assert {p: p.stat().st_mtime_ns for p in (root / "stock_events").rglob("*.parquet")} == (
        stock_files
    )
    third = export_raw(home)
    assert third.batches_written == {}
    assert not (root / "_tmp").exists()


def test_export_has_raw_rows_and_columns(two_batches: Path) -> None:
    home = two_batches
    export_raw(home)
    root = (home / "raw_parquet").as_posix()
    for table in event_tables():
        raw_columns = [row[0] for row in _raw(home, f"describe raw.raw.{table}")]
        schema_columns = [
            row[0] for row in _parquet(f"describe from '{root}/{SCHEMA_DIR}/{table}.parquet'")
        ]
        assert schema_columns == raw_columns, table
        raw_batches = _raw(
            home, f"select batch_id, count(*) from raw.raw.{table} group by all order by all"
        )
        exported = _parquet(
            f"select batch_id, count(*) from read_parquet('{root}/{table}/*/*.parquet', "
            "hive_partitioning = true) group by all order by all"
        )
        assert exported == raw_batches, table
        # same rows, column by column (batch_id comes from the folder name)
        columns = ", ".join(f'"{c}"' for c in raw_columns)
        difference = _parquet(
            f"attach '{home / 'raw.duckdb'}' as raw_src (read_only); "
            f"select count(*) from ((select {columns} from raw_src.raw.{table}) except all "
            f"(select {columns} from read_parquet('{root}/{table}/*/*.parquet', "
            "hive_partitioning = true)))"
        )
        assert difference == [(0,)], table
    assert {p.name for p in (home / "raw_parquet").iterdir()} >= {
        *event_tables(),
        *(t for t in BOOKKEEPING_TABLES if t != "revocations"),
        SCHEMA_DIR,
    }
    (quarantined,) = _raw(home, "select count(*) from raw.raw.quarantine")
    assert _parquet(f"select count(*) from '{root}/quarantine/*.parquet'") == [quarantined]
