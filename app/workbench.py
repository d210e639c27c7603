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
4. Each query runs in its own process: a DuckDB memory limit (default 1 GB, settings)
   and an address-space limit for the process, a timeout after which the process is
   killed, a row limit and a byte limit on the result. One query per session runs at
   a time.
5. Schemas by role: the tables a statement reads (DuckDB's own binder,
   `get_table_names`) must lie in the schemas the role may read (domain model);
   catalogue functions and schema-less listings are refused to restricted roles.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import resource
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import pandas as pd

from opsledger.core.readonly import READ_ONLY_CONFIG, connect_read_only
from opsledger.core.settings import Settings

DEFAULT_TIMEOUT_S = Settings.workbench_timeout_seconds
DEFAULT_ROW_LIMIT = Settings.workbench_row_limit
DEFAULT_MEMORY_LIMIT = Settings.workbench_memory_limit
DEFAULT_MAX_BYTES = Settings.workbench_max_result_bytes
# the query process's address space: its DuckDB memory limit plus the interpreter's own
PROCESS_OVERHEAD_BYTES = 1 << 30
BATCH_ROWS = 256
WRAPPABLE = {"select", "with", "from", "values", "table"}
CATALOGUE = re.compile(r"^(duckdb_\w+|pragma_\w+|information_schema|pg_catalog)", re.IGNORECASE)

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


class TooLarge(Exception):
    """The result is larger than the workbench's byte limit."""


class OutOfMemory(Exception):
    """The query needed more memory than the workbench's limit."""


_running: set[str] = set()
_running_lock = threading.Lock()


def parse_bytes(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)?\s*", str(text), re.IGNORECASE)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    unit = (m.group(2) or "B").upper().replace("I", "").rstrip("B") or "B"
    factor = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[unit]
    return int(float(m.group(1)) * factor)


def _allowed_table(name: str, schemas: Sequence[str]) -> bool:
    parts = [p.strip('"') for p in re.findall(r'"[^"]*"|[^.]+', name)]
    schema = parts[-2] if len(parts) >= 2 else "main"
    return schema in schemas


def _check_schemas(con, text: str, first: str, schemas: Sequence[str]) -> None:
    if CATALOGUE.search(" ".join(_parsed_functions(text))) or re.search(
        r"\b(information_schema|pg_catalog)\b", text, re.IGNORECASE
    ):
        raise Refused(
            "Refused: catalogue functions list every schema; use the schema browser, which "
            f"shows the schemas your role may read ({', '.join(schemas) or 'none'})."
        )
    tables = con.get_table_names(text, qualified=True)
    if not tables and first in ("show", "describe", "desc", "summarize"):
        raise Refused(
            f"Refused: {first.upper()} without a table lists every schema; name a table "
            f"of {', '.join(schemas) or 'no schema'}."
        )
    denied = sorted(t for t in tables if not _allowed_table(t, schemas))
    if denied:
        raise Refused(
            f"Refused: your role may not read {', '.join(denied)}; it reads the schemas "
            f"{', '.join(schemas) or '(none)'}. Qualify tables with their schema (marts.x)."
        )


def _query_process(path, text, kind, first, schemas, memory_limit, row_limit, max_bytes, out):
    """The child: open, check schemas, run and fetch within the limits, send the result."""
    limit = parse_bytes(memory_limit)
    cap = limit + PROCESS_OVERHEAD_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        import pyarrow as pa

        config = dict(READ_ONLY_CONFIG) | {
            "memory_limit": memory_limit,
            "max_temp_directory_size": "0KiB",
            "threads": 2,
        }
        con = duckdb.connect(str(path), read_only=True, config=config)
        out.send(("started", None))
        if schemas is not None:
            _check_schemas(con, text, first, schemas)
        sql = text
        if kind == "SELECT" and first in WRAPPABLE:  # rows past the limit are never produced
            sql = f"select * from (\n{text}\n) limit {row_limit + 1}"
        reader = con.execute(sql).to_arrow_reader(BATCH_ROWS)
        batches, rows, size = [], 0, 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            size += batch.nbytes
            if size > max_bytes:
                raise TooLarge(
                    f"The result is larger than the workbench's limit of {max_bytes / 2**20:,.0f} "
                    "MiB: select fewer columns or rows, or aggregate."
                )
            if rows > row_limit:
                break
        table = pa.Table.from_batches(batches, schema=reader.schema)
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        out.send(("ok", sink.getvalue()))
    except MemoryError:
        out.send(("error", OutOfMemory(_oom_message(memory_limit))))
    except duckdb.OutOfMemoryException:
        out.send(("error", OutOfMemory(_oom_message(memory_limit))))
    except BaseException as exc:
        try:
            out.send(("error", exc))
        except Exception:  # an exception that does not pickle
            out.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _oom_message(memory_limit: str) -> str:
    return (
        f"The query needed more memory than the workbench allows ({memory_limit}) and was "
        "stopped: filter, aggregate or select fewer columns."
    )


def run(
    path: Path,
    sql: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    row_limit: int = DEFAULT_ROW_LIMIT,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    schemas: Sequence[str] | None = None,
    session_key: str | None = None,
) -> WorkbenchResult:
    """Check and run one statement against the warehouse at `path` in its own process.
    `schemas`: what the role may read (None: every schema); `session_key`: at most one
    query of that session runs at a time."""
    text = check(sql)
    kind = duckdb.extract_statements(text)[0].type.name
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}; run `opsledger refresh`")
    key = session_key or f"anonymous-{threading.get_ident()}-{time.monotonic_ns()}"
    with _running_lock:
        if key in _running:
            raise Refused(
                "A query of this session is still running: wait for it (or its timeout of "
                f"{timeout_s:g} s) before running another."
            )
        _running.add(key)
    try:
        return _run_process(
            path, text, kind, schemas, timeout_s, row_limit, memory_limit, max_bytes
        )
    finally:
        with _running_lock:
            _running.discard(key)


class _Out:
    """The child's end of the pipe: pickled messages on stdout."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def send(self, message: object) -> None:
        pickle.dump(message, self.stream)
        self.stream.flush()


def _worker_main() -> None:
    """`python -m app.workbench`: one query, its arguments pickled on stdin."""
    from opsledger.app import workbench  # this module by its name: its exceptions unpickle as such

    args = pickle.load(sys.stdin.buffer)
    workbench._query_process(*args, workbench._Out(sys.stdout.buffer))


def _run_process(path, text, kind, schemas, timeout_s, row_limit, memory_limit, max_bytes):
    """Run the query in a fresh interpreter (never a fork of the app's threaded process,
    nor multiprocessing, which would re-run the Streamlit script as its __main__)."""
    import pyarrow as pa

    args = (path, text, kind, _first_keyword(text), schemas, memory_limit, row_limit, max_bytes)
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsledger.app.workbench"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    assert proc.stdin is not None and proc.stdout is not None

    def ready(seconds: float) -> bool:
        return bool(select.select([proc.stdout], [], [], seconds)[0])

    try:
        pickle.dump(args, proc.stdin)
        proc.stdin.close()
        try:
            # the process's start (interpreter, imports, opening the file) is not the query's
            if not ready(60):
                raise RuntimeError("The query process did not start.")
            status, payload = pickle.load(proc.stdout)
            if status == "started":
                if not ready(timeout_s):
                    raise QueryTimeout(
                        f"The query ran longer than {timeout_s:g} s and was stopped."
                    )
                status, payload = pickle.load(proc.stdout)
        except EOFError as exc:  # killed by the address-space limit
            raise OutOfMemory(_oom_message(memory_limit)) from exc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        proc.stdout.close()
    if status == "error":
        raise payload
    table = pa.ipc.open_stream(payload).read_all()
    truncated = table.num_rows > row_limit
    table = table.slice(0, row_limit)
    frame = table.to_pandas()
    frame.columns = _unique(list(table.column_names))
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
    if isinstance(exc, Refused | QueryTimeout | TooLarge | OutOfMemory):
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


if __name__ == "__main__":
    _worker_main()
