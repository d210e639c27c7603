"""On Spark, raw.* reads the Parquet export: the same rows as raw.duckdb, revoked
events left out. Needs the spark extra (make install-spark) and Java; skipped without."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("no Java for Spark", allow_module_level=True)

from opsledger.ingest.pipeline import run_ingest
from opsledger.ingest.simulator import generate
from opsledger.raw_export import export_raw
from opsledger.raw_sync import event_tables
from opsledger.spark import register_raw_sources, spark_session

pytestmark = pytest.mark.slow


def test_raw_views_over_the_export_hold_raw_rows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    generate(home, scale=0.01, seed=5, end=date(2025, 12, 31))
    run_ingest(home)
    export_raw(home)
    con = duckdb.connect(str(home / "raw.duckdb"), read_only=True)
    try:
        expected = {
            table: con.execute(f"select count(*) from raw.raw.{table}").fetchone()[0]
            for table in event_tables()
        }
        columns = {
            table: [row[0] for row in con.execute(f"describe raw.raw.{table}").fetchall()]
            for table in event_tables()
        }
    finally:
        con.close()
    spark = spark_session(home)
    try:
        batches = register_raw_sources(spark, home)
        assert set(batches) == set(event_tables())
        for table in event_tables():
            view = spark.table(f"raw.{table}")
            assert view.columns == columns[table], table
            assert view.count() == expected[table], table
    finally:
        spark.stop()
