"""Every `OPSLEDGER_*` environment variable, read and validated in one place.

`environment()` parses the variables it knows into one frozen `Environment`; a bad
value raises `SettingsError` naming the variable and what it accepts. The result is
cached per distinct set of values, so a process resolves its environment once while a
test that sets a variable still sees the new value. `VARIABLES` lists every variable
opsledger reads or sets, with its default and meaning; docs/configuration.md is that
table (tests/opsledger/test_environment.py keeps the two, and the code, in step).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from opsledger.core.errors import SettingsError

HOME_ENV = "OPSLEDGER_HOME"
AUTO_REFRESH_ENV = "OPSLEDGER_AUTO_REFRESH"
CURRENCY_ENV = "OPSLEDGER_CURRENCY"
CLOCK_ENV = "OPSLEDGER_CLOCK"
DBT_FILE_LOG_LEVEL_ENV = "OPSLEDGER_DBT_FILE_LOG_LEVEL"
DEBUG_ENV = "OPSLEDGER_DEBUG"
FAULT_AT_ENV = "OPSLEDGER_FAULT_AT"
INGEST_SLEEP_IN_TX_ENV = "OPSLEDGER_INGEST_SLEEP_IN_TX"
# read by the CLI's own options (typer), never kept in a settings object
PASSWORD_ENV = "OPSLEDGER_PASSWORD"
USER_PASSWORD_ENV = "OPSLEDGER_USER_PASSWORD"

DEFAULT_AUTO_REFRESH = 3.0  # seconds: `on` means this debounce
DBT_LOG_LEVELS = ("debug", "info", "warn", "error", "none")
FAULT_STAGES = ("ingest", "build", "audit", "publish")
_OFF = ("", "off", "0", "false", "no")
_ON = ("on", "true", "yes", "1")
_AUTO_REFRESH_ON = ("on", "true", "yes")  # a number is seconds: "1" is a 1 s debounce


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str
    set_by_opsledger: bool = False  # opsledger sets it for dbt or GX; users leave it alone


VARIABLES: tuple[Variable, ...] = (
    Variable(HOME_ENV, "`./data`", "the home directory; `--home` wins over it"),
    Variable(
        AUTO_REFRESH_ENV,
        "`off`",
        "debounce seconds of the refresh that write-back submissions trigger in the app; "
        "`off`/`0` off, `on` 3 s (`opsledger serve --auto-refresh` sets it)",
    ),
    Variable(
        CURRENCY_ENV,
        "the orders' currency",
        "the merchant's currency (ISO 4217 code, e.g. `EUR`) money is shown in",
    ),
    Variable(
        CLOCK_ENV,
        "now",
        "a fixed 'now' (ISO timestamp, UTC) for freshness and ages in dbt: reproducible builds",
    ),
    Variable(
        DBT_FILE_LOG_LEVEL_ENV,
        "`warn`",
        "level of dbt's file log `<home>/builds/dbt/logs/dbt.log`: " + ", ".join(DBT_LOG_LEVELS),
    ),
    Variable(
        DEBUG_ENV,
        "`0`",
        "`1`: an unexpected error of a command shows its traceback (stderr) instead of one line",
    ),
    Variable(PASSWORD_ENV, "prompted", "the admin's password of `opsledger events revoke`"),
    Variable(USER_PASSWORD_ENV, "prompted", "the new user's password of `opsledger users add`"),
    Variable(
        FAULT_AT_ENV,
        "unset",
        "test hook: a refresh stalls at this stage (" + ", ".join(FAULT_STAGES) + ") "
        "so a test can kill it there",
    ),
    Variable(
        INGEST_SLEEP_IN_TX_ENV,
        "`0`",
        "test hook: seconds ingest sleeps inside a file's transaction",
    ),
    Variable(
        "OPSLEDGER_BUILD_DB",
        "`<home>/builds/building/warehouse.duckdb`",
        "the database dbt builds (dbt/profiles.yml)",
        set_by_opsledger=True,
    ),
    Variable(
        "OPSLEDGER_MEMORY_LIMIT",
        "`3GB`",
        "DuckDB memory limit of a dbt build",
        set_by_opsledger=True,
    ),
    Variable("OPSLEDGER_DBT_TARGET", "`duckdb`", "dbt's target", set_by_opsledger=True),
    Variable(
        "OPSLEDGER_BUILD_ID",
        "dbt's invocation id",
        "the build id a dbt build writes into the incremental tables' `_build_id`",
        set_by_opsledger=True,
    ),
    Variable(
        "OPSLEDGER_AUDIT",
        "`full`",
        "what a dbt build's data tests read: `full` (every row) or `build` (what it wrote)",
        set_by_opsledger=True,
    ),
    Variable(
        "OPSLEDGER_SPARK_HOST",
        "none",
        "a Spark cluster's host (profiles `spark_thrift`, `spark_databricks`)",
    ),
    Variable(
        "OPSLEDGER_SPARK_PORT", "`10000`", "the Thrift server's port (profile `spark_thrift`)"
    ),
    Variable(
        "OPSLEDGER_SPARK_USER", "`opsledger`", "the Thrift server's user (profile `spark_thrift`)"
    ),
    Variable("OPSLEDGER_SPARK_AUTH", "`NONE`", "the Thrift server's auth (profile `spark_thrift`)"),
    Variable("OPSLEDGER_SPARK_TOKEN", "none", "the Databricks token (profile `spark_databricks`)"),
    Variable(
        "OPSLEDGER_SPARK_CLUSTER", "none", "the Databricks cluster (profile `spark_databricks`)"
    ),
    Variable(
        "OPSLEDGER_SPARK_SCHEMA", "`default`", "the Spark schema dbt builds in (Spark profiles)"
    ),
    Variable(
        "OPSLEDGER_SPARK_THREADS",
        "`4`",
        "dbt threads on a Spark cluster (profiles `spark_thrift`, `spark_databricks`)",
    ),
)

_PARSED = (
    HOME_ENV,
    AUTO_REFRESH_ENV,
    CURRENCY_ENV,
    CLOCK_ENV,
    DBT_FILE_LOG_LEVEL_ENV,
    DEBUG_ENV,
    FAULT_AT_ENV,
    INGEST_SLEEP_IN_TX_ENV,
)


@dataclass(frozen=True)
class Environment:
    home: Path | None = None  # None: ./data
    auto_refresh: float | None = None  # debounce seconds; None: off
    currency: str | None = None  # None: the orders' own
    clock: datetime | None = None
    dbt_file_log_level: str = "warn"
    debug: bool = False
    fault_at: str | None = None
    ingest_sleep_in_tx: float = 0.0


def environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The validated `OPSLEDGER_*` settings of `environ` (default: this process's)."""
    source = os.environ if environ is None else environ
    return _parse(tuple((name, source.get(name)) for name in _PARSED))


@lru_cache(maxsize=32)
def _parse(values: tuple[tuple[str, str | None], ...]) -> Environment:
    raw = {name: (value or "").strip() for name, value in values}
    return Environment(
        home=Path(raw[HOME_ENV]) if raw[HOME_ENV] else None,
        auto_refresh=_auto_refresh(raw[AUTO_REFRESH_ENV]),
        currency=_currency(raw[CURRENCY_ENV]),
        clock=_clock(raw[CLOCK_ENV]),
        dbt_file_log_level=_choice(
            DBT_FILE_LOG_LEVEL_ENV, raw[DBT_FILE_LOG_LEVEL_ENV] or "warn", DBT_LOG_LEVELS
        ),
        debug=_flag(DEBUG_ENV, raw[DEBUG_ENV]),
        fault_at=_choice(FAULT_AT_ENV, raw[FAULT_AT_ENV], FAULT_STAGES)
        if raw[FAULT_AT_ENV]
        else None,
        ingest_sleep_in_tx=_seconds(INGEST_SLEEP_IN_TX_ENV, raw[INGEST_SLEEP_IN_TX_ENV]) or 0.0,
    )


def _bad(name: str, value: str, accepts: str) -> SettingsError:
    return SettingsError(f"${name} is {value!r}; it accepts {accepts}")


def _seconds(name: str, value: str) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise _bad(name, value, "a number of seconds >= 0")
    return seconds


def _auto_refresh(value: str) -> float | None:
    lowered = value.lower()
    if lowered in _OFF:
        return None
    if lowered in _AUTO_REFRESH_ON:
        return DEFAULT_AUTO_REFRESH
    try:
        return _seconds(AUTO_REFRESH_ENV, value)
    except SettingsError:
        raise _bad(AUTO_REFRESH_ENV, value, "seconds >= 0, `on` or `off`") from None


def _currency(value: str) -> str | None:
    if not value:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise _bad(CURRENCY_ENV, value, "a three-letter ISO 4217 code such as EUR")
    return value.upper()


def _clock(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _bad(CLOCK_ENV, value, "an ISO timestamp such as 2025-06-30T20:00:00") from None


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value.lower() not in allowed:
        raise _bad(name, value, ", ".join(allowed))
    return value.lower()


def _flag(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _OFF:
        return False
    if lowered in _ON:
        return True
    raise _bad(name, value, "1/0, true/false, yes/no, on/off")
