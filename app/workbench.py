"""The SQL workbench: statement guard and guarded execution (no Streamlit here).

Defence in depth:
1. Parse with DuckDB's own parser (`duckdb.extract_statements`): exactly one
   statement, of type SELECT or EXPLAIN, whose first keyword is one of
   SELECT/WITH/FROM/VALUES/TABLE/DESCRIBE/SHOW/SUMMARIZE/EXPLAIN (PRAGMA, CALL, SET,
   COPY, ATTACH, INSTALL/LOAD, EXPORT, DDL and DML are refused with a message).
2. Walk the parsed tree (`json_serialize_sql`) for table functions and functions
   that touch files or the system (read_csv, read_text, glob, ...) and refuse them.
3. Run on a read-only connection opened with `enable_external_access = false`,
   extension autoload/autoinstall off and `lock_configuration = true`, so even a
   statement the guard missed cannot read or write files, attach databases or
   load extensions.
4. A statement timeout (the query runs in a worker thread; `interrupt()` after the
   deadline) and a row limit (`fetchmany`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from opsledger.readonly import READ_ONLY_CONFIG, connect_read_only

DEFAULT_TIMEOUT_S = 15.0
DEFAULT_ROW_LIMIT = 10_000

ALLOWED_FIRST_KEYWORDS = {
    "select",
    "with",
    "from",
    "values",
    "table",
    "describe",
    "desc",
    "show",
    "summarize",
    "explain",
}
ALLOWED_TYPES = {"SELECT", "EXPLAIN"}

# Functions that reach outside the warehouse or describe the host; the locked
# configuration would refuse most of them anyway, this gives a clear message first.
BLOCKED_FUNCTION = re.compile(
    r"^(read_\w+|.*_scan|glob|sniff_csv|parquet_\w+|iceberg_\w+|delta_\w+|"
    r"sqlite_\w+|postgres_\w+|mysql_\w+|http\w*|getenv|current_setting|duckdb_secrets|"
    r"duckdb_extensions|duckdb_settings|install_extension|load_extension|"
    r"json_execute_serialized_sql|query|query_table|copy_\w+|export_\w+|pragma_\w+|"
    r"checkpoint|force_checkpoint|enable_\w+|disable_\w+|which_secret)$",
    re.IGNORECASE,
)


class Refused(Exception):
    """The statement is not allowed in the workbench."""


class QueryTimeout(Exception):
    pass


@dataclass
class WorkbenchResult:
    frame: pd.DataFrame
    truncated: bool
    seconds: float
    statement_type: str
    notes: list[str] = field(default_factory=list)


def _first_keyword(sql: str) -> str:
    for position, kind in duckdb.tokenize(sql):
        if str(kind).endswith("comment"):
            continue
        word = re.match(r"[A-Za-z_]+", sql[position:])
        return word.group(0).lower() if word else sql[position : position + 1]
    return ""


def _function_names(tree: Any) -> set[str]:
    names: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            name = node.get("function_name")
            if isinstance(name, str):
                names.add(name)
            if node.get("type") == "BASE_TABLE":
                table = str(node.get("table_name", ""))
                if "/" in table or ("." in table and not node.get("schema_name")):
                    names.add(f"file:{table}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


def check(sql: str) -> str:
    """Validate a workbench statement; returns the statement's SQL or raises Refused."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise Refused("Enter a SELECT query.")
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise Refused(f"Syntax error: {exc}") from exc
    if len(statements) != 1:
        raise Refused(
            f"Only one statement at a time is allowed; found {len(statements)}. "
            "Remove the extra statements."
        )
    kind = statements[0].type.name
    first = _first_keyword(text)
    if kind not in ALLOWED_TYPES or first not in ALLOWED_FIRST_KEYWORDS:
        shown = first.upper() if first else kind
        raise Refused(
            f"{shown} statements are not allowed: the workbench is read-only and runs a single "
            "SELECT, WITH, DESCRIBE, SHOW or EXPLAIN statement (no COPY, ATTACH, INSTALL, LOAD, "
            "PRAGMA, SET, EXPORT, DDL or DML)."
        )
    blocked = sorted(n for n in _parsed_functions(text) if _is_blocked(n))
    if blocked:
        names = ", ".join(b.removeprefix("file:") for b in blocked)
        raise Refused(
            f"Refused: {names} would read files or the system; the workbench can only query "
            "the warehouse's own tables."
        )
    return text


def _is_blocked(name: str) -> bool:
    return name.startswith("file:") or bool(BLOCKED_FUNCTION.match(name))


def _parsed_functions(sql: str) -> set[str]:
    """Function names in the parse tree (SELECT statements; others yield nothing)."""
    con = duckdb.connect(":memory:", config=dict(READ_ONLY_CONFIG) | {"lock_configuration": True})
    try:
        row = con.execute("select json_serialize_sql(?)", [sql]).fetchone()
    except duckdb.Error:
        return set()
    finally:
        con.close()
    try:
        tree = json.loads(row[0]) if row else {}
    except (TypeError, ValueError):
        return set()
    if tree.get("error"):
        return set()
    return _function_names(tree.get("statements", []))


def _read_only_connection(path: Path) -> duckdb.DuckDBPyConnection:
    # external access off and configuration locked from the first instruction on
    return connect_read_only(path)


def run(
    path: Path,
    sql: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    row_limit: int = DEFAULT_ROW_LIMIT,
) -> WorkbenchResult:
    """Check and run one statement against the warehouse at `path`."""
    text = check(sql)
    kind = duckdb.extract_statements(text)[0].type.name
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}; run `opsledger refresh`")
    con = _read_only_connection(path)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            cursor = con.execute(text)
            names = [d[0] for d in cursor.description or []]
            rows = cursor.fetchmany(row_limit + 1)
            outcome["names"], outcome["rows"] = names, rows
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    started = time.perf_counter()
    worker = threading.Thread(target=work, name="workbench-query", daemon=True)
    try:
        worker.start()
        worker.join(timeout_s)
        if worker.is_alive():
            con.interrupt()
            worker.join(5)
            raise QueryTimeout(f"The query ran longer than {timeout_s:g} s and was stopped.")
    finally:
        if not worker.is_alive():
            con.close()
    if "error" in outcome:
        raise outcome["error"]
    rows = outcome["rows"]
    truncated = len(rows) > row_limit
    rows = rows[:row_limit]
    names = _unique(outcome["names"])
    frame = pd.DataFrame.from_records(rows, columns=names)
    notes = [f"Showing the first {row_limit:,} rows."] if truncated else []
    return WorkbenchResult(frame, truncated, time.perf_counter() - started, kind, notes)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}_{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def friendly_error(exc: BaseException) -> str:
    """One clear sentence for the user, without a traceback."""
    if isinstance(exc, Refused | QueryTimeout):
        return str(exc)
    if isinstance(exc, duckdb.PermissionException):
        return "Refused: the workbench cannot access files or the network. " + _first_line(exc)
    if isinstance(exc, duckdb.ParserException):
        return "Syntax error: " + _first_line(exc)
    if isinstance(exc, duckdb.CatalogException):
        return "Unknown table or column: " + _first_line(exc)
    if isinstance(exc, duckdb.BinderException):
        return "Invalid query: " + _first_line(exc)
    if isinstance(exc, duckdb.InterruptException):
        return "The query was interrupted."
    if isinstance(exc, duckdb.Error):
        return f"{type(exc).__name__}: {_first_line(exc)}"
    return f"{type(exc).__name__}: {exc}"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
