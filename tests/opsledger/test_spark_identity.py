"""The same dbt project builds on Apache Spark with the marts DuckDB builds (issue 22).

One simulated landing (scale 0.01, its newest events held back) is refreshed in two
homes, one per engine, on one pinned clock; every public mart of the two publications
is compared row by row: integers, strings, dates, timestamps and decimals exactly,
doubles within DOUBLE_TOLERANCE (the engines sum floating point in different orders). Then the
held-back events arrive in both homes and both refresh again: Spark continues its
incremental tables, and the marts still agree. Needs the spark extra
(make install-spark) and Java; skipped without.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("no Java for Spark", allow_module_level=True)

from benchmarks.hold_back import deliver_held_back, event_times, hold_back_newest
from opsledger.core.paths import HomePaths
from opsledger.ingest.pipeline import run_ingest
from opsledger.ingest.simulator import generate
from opsledger.ingest.simulator.config import REFERENCE_END
from opsledger.nothing_new import check_current
from opsledger.status import read_status

pytestmark = pytest.mark.slow

SCALE = 0.01
HELD_BACK = 0.05  # the newest share of events, delivered by the second refresh
DOUBLE_TOLERANCE = 1e-9  # relative (absolute below 1)
# the staleness marts judge against the build's clock: one clock for both builds
CLOCK = "2026-01-01T06:00:00"
IGNORED_COLUMNS = {"_build_id"}  # names the build that wrote a row: differs by design
DIFFERENCES_SHOWN = 5


def _refresh(home: Path, engine: str) -> dict:
    """`opsledger refresh --engine ENGINE` as a user runs it: its own process (and JVM)."""
    command = ["refresh", "--home", str(home), "--engine", engine, "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "opsledger.cli", *command],
        env={**os.environ, "OPSLEDGER_CLOCK": CLOCK},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    result = json.loads(done.stdout)
    assert result["published"] and result["engine"] == engine, result
    return result


def _snapshot(home: Path, target: Path) -> Path:
    """A copy of the published warehouse, to compare after the home moved on."""
    shutil.copyfile(HomePaths.at(home).warehouse, target)
    return target


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> dict:
    """Both homes hold the same raw layer (ingested once, in `base`, then copied): the
    ingest batches and times are part of the marts (batch_id, ingested_at), and
    ingest is not what differs between the engines."""
    base = tmp_path_factory.mktemp("landing")
    generate(base, scale=SCALE, seed=3, end=REFERENCE_END)
    events = sum(len(event_times(p)) for p in (base / "landing").glob("*/*/*") if p.is_file())
    assert hold_back_newest(base, HELD_BACK, events)["held_back"] > 0
    run_ingest(base)
    homes = {}
    for engine in ("duckdb", "spark"):
        homes[engine] = tmp_path_factory.mktemp(engine) / "home"
        shutil.copytree(base, homes[engine])
    snapshots = tmp_path_factory.mktemp("snapshots")
    first = {engine: _refresh(home, engine) for engine, home in homes.items()}
    first_files = {e: _snapshot(h, snapshots / f"{e}-first.duckdb") for e, h in homes.items()}
    assert deliver_held_back(base) > 0
    assert run_ingest(base).to_dict()["loaded"] > 0
    for home in homes.values():  # the delivery, ingested: its refresh ingests nothing more
        shutil.copytree(base / "landing", home / "landing", dirs_exist_ok=True)
        shutil.copyfile(base / "raw.duckdb", home / "raw.duckdb")
    second = {engine: _refresh(home, engine) for engine, home in homes.items()}
    return {"homes": homes, "first": first, "first_files": first_files, "second": second}


def _columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from duckdb_columns()"
        " where database_name = ? and schema_name = 'marts'"
        " and table_name in (select table_name from duckdb_tables()"
        "  where database_name = ? and schema_name = 'marts')"
        " order by table_name, column_index",
        [catalog, catalog],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        if column not in IGNORED_COLUMNS:
            tables.setdefault(table, []).append((column, data_type))
    return tables


def _differences(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]):
    """Rows of the two builds that differ, paired in the order of all their columns:
    (row number, column, DuckDB's value, Spark's value), the first few."""
    order = ", ".join(f'"{c}"' for c, _ in columns)
    names = [c for c, _ in columns]

    def numbered(catalog: str) -> str:
        return (
            f"select row_number() over (order by {order}) as n, {order}"
            f' from "{catalog}".marts."{table}"'
        )

    checks = []
    for column, data_type in columns:
        a, b = f'a."{column}"', f'b."{column}"'
        if data_type in ("DOUBLE", "FLOAT"):
            differs = (
                f"(({a} is null) <> ({b} is null) or abs({a} - {b})"
                f" > {DOUBLE_TOLERANCE} * greatest(1, abs({a})))"
            )
        else:
            differs = f"({a} is distinct from {b})"
        checks.append(f"case when {differs} then '{column}' end")
    differing = "list_filter([" + ", ".join(checks) + "], x -> x is not null)"
    sql = (
        f"with a as ({numbered('duck')}), b as ({numbered('spark')}),"
        f" paired as (select a.n, {differing} as columns,"
        + ", ".join(f'a."{c}" as "duck_{c}", b."{c}" as "spark_{c}"' for c in names)
        + " from a full join b on a.n = b.n)"
        " select * from paired where columns is null or len(columns) > 0 order by n"
        f" limit {DIFFERENCES_SHOWN}"
    )
    return con.execute(sql).fetchall()


def _compare(duck: Path, spark: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{duck}' as duck (read_only)")
        con.execute(f"attach '{spark}' as spark (read_only)")
        duck_tables, spark_tables = _columns(con, "duck"), _columns(con, "spark")
        assert sorted(spark_tables) == sorted(duck_tables)
        assert len(duck_tables) >= 20  # every public mart, not a few
        problems = {}
        for table, columns in sorted(duck_tables.items()):
            assert spark_tables[table] == columns, table  # names, order and types
            counts = [
                con.execute(f'select count(*) from "{c}".marts."{table}"').fetchone()[0]
                for c in ("duck", "spark")
            ]
            rows = _differences(con, table, columns)
            if counts[0] != counts[1] or rows:
                problems[table] = {"rows (duckdb, spark)": counts, "first differences": rows}
        assert not problems, problems
        filled = [
            t
            for t in duck_tables
            if con.execute(f'select count(*) from duck.marts."{t}"').fetchone()[0] > 0
        ]
        assert len(filled) >= len(duck_tables) - 2  # the comparison compares rows
    finally:
        con.close()


def test_a_spark_build_publishes_the_marts_a_duckdb_build_does(engines):
    assert engines["first"]["spark"]["full_refresh"]
    _compare(engines["first_files"]["duckdb"], engines["first_files"]["spark"])


def test_after_a_second_delivery_spark_continues_incrementally_to_the_same_marts(engines):
    second = engines["second"]
    assert second["duckdb"]["full_refresh"] is False
    assert second["spark"]["full_refresh"] is False  # Spark's tables continued
    homes = engines["homes"]
    _compare(HomePaths.at(homes["duckdb"]).warehouse, HomePaths.at(homes["spark"]).warehouse)


def test_status_names_the_engine_that_built_the_publication(engines):
    homes = engines["homes"]
    assert read_status(homes["spark"])["published"]["engine"] == "spark"
    assert read_status(homes["duckdb"])["published"]["engine"] == "duckdb"
    assert engines["second"]["spark"]["audit"] in ("build", "full")


def test_a_spark_publication_with_nothing_new_is_kept_without_starting_spark(engines):
    home = engines["homes"]["spark"]
    before = read_status(home)["published"]["build_id"]
    done = subprocess.run(
        [sys.executable, "-m", "opsledger.cli", "refresh", "--home", str(home),
         "--engine", "spark", "--json"],
        env={**os.environ, "OPSLEDGER_CLOCK": CLOCK}, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    result = json.loads(done.stdout)
    assert (result["status"], result["current_build_id"]) == ("unchanged", before), result
    assert "spark_sources" not in result["timings"]  # no SparkSession was started
    # the same publication is not what a DuckDB build would publish
    verdict = check_current(HomePaths.at(home), "duckdb", datetime.fromisoformat(CLOCK))
    assert (verdict.current, verdict.reason) == (False, "the publication was built by spark")
