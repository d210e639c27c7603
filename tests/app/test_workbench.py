"""Unit tests of the workbench guard and guarded execution (app/workbench.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import pytest

from opsledger.app import workbench
from opsledger.app.workbench import QueryTimeout, Refused, check, friendly_error, run


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wb") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.t as select range as a, 'x' || range as b from range(50)")
    con.close()
    return path


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("COPY marts.t TO '/tmp/out.csv'", "COPY statements are not allowed"),
        ("ATTACH '/tmp/other.duckdb' AS o", "ATTACH statements are not allowed"),
        ("INSTALL httpfs", "INSTALL statements are not allowed"),
        ("LOAD httpfs", "LOAD statements are not allowed"),
        ("EXPORT DATABASE '/tmp/x'", "EXPORT statements are not allowed"),
        ("PRAGMA database_list", "PRAGMA statements are not allowed"),
        ("SET enable_external_access = true", "SET statements are not allowed"),
        ("RESET lock_configuration", "not allowed"),
        ("CALL pragma_version()", "CALL statements are not allowed"),
        ("CREATE TABLE x (a int)", "CREATE statements are not allowed"),
        ("DROP TABLE marts.t", "DROP statements are not allowed"),
        ("INSERT INTO marts.t VALUES (1, 'y')", "INSERT statements are not allowed"),
        ("UPDATE marts.t SET a = 1", "UPDATE statements are not allowed"),
        ("DELETE FROM marts.t", "DELETE statements are not allowed"),
        ("ALTER TABLE marts.t ADD COLUMN c int", "ALTER statements are not allowed"),
        ("DETACH warehouse", "DETACH statements are not allowed"),
        ("USE marts", "USE statements are not allowed"),
        ("CHECKPOINT", "not allowed"),
        ("select 1; select 2", "Only one statement"),
        ("select * from read_csv('/etc/passwd')", "read_csv would read files"),
        ("select * from read_text('/etc/passwd')", "read_text would read files"),
        ("select * from read_parquet('x.parquet')", "read_parquet"),
        ("select * from '/etc/passwd'", "/etc/passwd would read files"),
        ("select * from glob('/*')", "glob"),
        ("select getenv('HOME')", "getenv"),
        ("with x as (select * from read_text('/etc/passwd')) select * from x", "read_text"),
        ("select * from marts.t where a in (select 1 from read_blob('/etc/hosts'))", "read_blob"),
        ("selec 1", "Syntax error"),
        ("", "Enter a SELECT query"),
    ],
)
def test_guard_refuses(sql: str, fragment: str) -> None:
    with pytest.raises(Refused, match=None) as info:
        check(sql)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from marts.t",
        "  -- a comment\nselect 1;",
        "with a as (select 1 as x) select * from a",
        "from marts.t",
        "describe marts.t",
        "show tables",
        "explain select * from marts.t",
        "summarize marts.t",
        "select lower('ABC'), count(*) from marts.t",
    ],
)
def test_guard_allows_reads(sql: str) -> None:
    assert check(sql)


def test_runs_a_select(db: Path) -> None:
    result = run(db, "select a, b from marts.t where a < 5 order by a")
    assert list(result.frame.columns) == ["a", "b"]
    assert result.frame["a"].tolist() == [0, 1, 2, 3, 4]
    assert not result.truncated


def test_row_limit(db: Path) -> None:
    result = run(db, "select * from marts.t", row_limit=10)
    assert len(result.frame) == 10
    assert result.truncated
    assert "first 10 rows" in result.notes[0]


def test_timeout_interrupts(db: Path) -> None:
    with pytest.raises(QueryTimeout):
        run(db, "select count(*) from range(1000000000000) a", timeout_s=0.5)
    # the warehouse is still usable afterwards
    assert run(db, "select 1 as one").frame["one"].tolist() == [1]


def test_connection_cannot_read_files_even_past_the_guard(db: Path) -> None:
    """Defence in depth: the execution connection itself refuses file access."""
    con = workbench._read_only_connection(db)
    try:
        with pytest.raises(duckdb.PermissionException):
            con.execute("select * from read_text('/etc/passwd')").fetchall()
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error):
            con.execute("create table marts.y (a int)")
    finally:
        con.close()


def test_bad_sql_has_a_clear_message(db: Path) -> None:
    with pytest.raises(duckdb.CatalogException) as info:
        run(db, "select * from marts.nope")
    assert friendly_error(info.value).startswith("Unknown table or column")
    with pytest.raises(duckdb.BinderException) as info2:
        run(db, "select nope from marts.t")
    assert "nope" in friendly_error(info2.value)


def test_duplicate_column_names_are_kept(db: Path) -> None:
    result = run(db, "select 1 as a, 2 as a")
    assert list(result.frame.columns) == ["a", "a_1"]


# -- resources and schemas (issue 18) ------------------------------------------------


@pytest.fixture(scope="module")
def governed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wb-gov") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema raw")
    con.execute("create table marts.t as select range as a from range(5)")
    con.execute("create table raw.quarantine as select 'secret raw line' as raw_text")
    con.close()
    return path


def test_the_issues_memory_attack_is_refused(db: Path) -> None:
    """`repeat('x', 200000)` x 100,000 rows reached 4.1 GB resident: now refused."""
    started = time.perf_counter()
    with pytest.raises((workbench.OutOfMemory, workbench.TooLarge)) as info:
        # refused by its memory or size, not by the clock (a loaded machine is slower)
        run(db, "select repeat('x', 200000) from range(100000)", memory_limit="1GB", timeout_s=90)
    assert "memory" in str(info.value) or "larger than" in str(info.value)
    assert time.perf_counter() - started < 120
    # and the workbench still works
    assert run(db, "select 1 as one").frame["one"].tolist() == [1]


def test_memory_limit_refuses_a_big_sort(db: Path) -> None:
    with pytest.raises(workbench.OutOfMemory, match="more memory than the workbench allows"):
        run(db, "select len(list(range)) from range(50000000)", memory_limit="64MB")


def test_byte_limit_besides_the_row_limit(db: Path) -> None:
    with pytest.raises(workbench.TooLarge, match="larger than the workbench's limit"):
        run(db, "select repeat('x', 10000) as s from range(1000)", max_bytes=1 << 20)
    assert len(run(db, "select repeat('x', 10) as s from range(1000)").frame) == 1000


def test_one_running_query_per_session(db: Path) -> None:
    outcome: list[BaseException] = []

    def long_query() -> None:
        try:
            run(db, "select count(*) from range(1000000000000)", timeout_s=4, session_key="s1")
        except QueryTimeout as exc:
            outcome.append(exc)

    slow = threading.Thread(target=long_query)
    slow.start()
    time.sleep(2.5)
    with pytest.raises(Refused, match="still running"):
        run(db, "select 1", session_key="s1")
    assert run(db, "select 1 as x", session_key="s2").frame["x"].tolist() == [1]
    slow.join()
    assert len(outcome) == 1  # the long query was stopped by its timeout
    assert run(db, "select 1 as x", session_key="s1").frame["x"].tolist() == [1]


@pytest.mark.parametrize(
    "sql",
    [
        "select * from raw.quarantine",
        "from raw.quarantine",
        "select * from marts.t join raw.quarantine on true",
        "select (select count(*) from raw.quarantine)",
        "with x as (from raw.quarantine) select * from x",
        "describe raw.quarantine",
        "summarize raw.quarantine",
        'select * from "raw"."quarantine"',
        "select * from warehouse.raw.quarantine",
        "show tables",
        "show all tables",
        "select * from duckdb_tables()",
        "select * from information_schema.tables",
    ],
)
def test_analyst_schemas_exclude_raw(governed_db: Path, sql: str) -> None:
    with pytest.raises(Refused, match="Refused"):
        run(governed_db, sql, schemas=("marts", "domain"))


def test_analyst_reads_marts_and_admin_reads_raw(governed_db: Path) -> None:
    assert len(run(governed_db, "select * from marts.t", schemas=("marts",)).frame) == 5
    assert run(governed_db, "describe marts.t", schemas=("marts",)).frame.shape[0] == 1
    admin = run(governed_db, "select raw_text from raw.quarantine", schemas=None)
    assert admin.frame["raw_text"].tolist() == ["secret raw line"]
