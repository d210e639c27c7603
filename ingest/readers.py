"""File -> staged rows: one VARCHAR column per source field, with line numbers.

Every reader appends to the temp table `_stage` (created by `create_stage`, one
per batch of files of a source) with
    _ln (unique ordering key: file ordinal << 32 + row ordinal in the file),
    _line (line number in the file, 1-based), _file (its landing path),
    _raw (the line as delivered; NULL for parquet), _reason/_detail (a problem
    found while reading the line, else NULL), then one VARCHAR column per field
    of the source (NULL when absent or empty).
Blank lines are not rows. Nothing is pulled into Python: DuckDB reads the file.
"""

from __future__ import annotations

import csv
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from opsledger.ingest.counting import LineScan, csv_record_spans, scan_lines
from opsledger.ingest.files import LandingFile
from opsledger.ingest.reasons import Reason
from opsledger.ingest.schema import q
from opsledger.models.domain import Domain

STAGE = "_stage"
# Read a text file as one VARCHAR per line: a delimiter that never occurs, no
# quoting, so DuckDB's parallel CSV scanner just splits lines. Invalid UTF-8 and
# over-long lines land in the rejects table with their line number and text.
LINE_OPTS = (
    "columns={'line': 'VARCHAR'}, delim='\\x01', quote='', escape='', header=false, "
    "auto_detect=false, strict_mode=false, store_rejects=true, "
    "rejects_table='_rej_errors', rejects_scan='_rej_scans'"
)
# A CSV line -> list of fields (RFC 4180 quoting, one record per line). Lines
# without quotes take the cheap string_split path.
CSV_SPLIT = (
    "CASE WHEN strpos(line, '\"') = 0 THEN string_split(line, ',') ELSE "
    'list_transform(regexp_extract_all(\',\' || line, \',("(?:[^"]|"")*"|[^,]*)\', 1), '
    "x -> CASE WHEN length(x) >= 2 AND x[1] = '\"' AND x[-1] = '\"' "
    "THEN replace(x[2:-2], '\"\"', '\"') ELSE x END) END"
)
REJECT_REASONS = {"INVALID ENCODING": Reason.INVALID_UTF8, "INVALID UNICODE": Reason.INVALID_UTF8}
MAX_RAW = 4000  # chars of a partial line kept in quarantine
# Names ingest adds to every row: not the sender's to give, and checked as such by
# validation, so they are not reported as unknown fields here.
INGEST_ADDED = ("batch_id", "source_file", "line_number", "ingested_at")


def _unknown(fields: tuple[str, ...], names: list[str]) -> list[str]:
    """Names of a file that are not fields of its source (docs/contract.md: an error)."""
    return [c for c in names if c not in fields and c not in INGEST_ADDED]


def _unknown_case(values: list[tuple[str, str]]) -> tuple[str, str]:
    """(condition, detail) SQL: some (name, value expression) carries a non-empty value."""
    present = [f"nullif(trim({expr}), '') IS NOT NULL" for _, expr in values]
    cond = "(" + " OR ".join(present) + ")"
    names = ", ".join(
        f"CASE WHEN {p} THEN {lit_name} END"
        for p, lit_name in zip(
            present, ("'" + n.replace("'", "''") + "'" for n, _ in values), strict=True
        )
    )
    return cond, f"'unknown fields: ' || concat_ws(', ', {names})"


@dataclass
class ReadResult:
    status: str = "loaded"  # loaded | empty | rejected
    messages: list[str] = field(default_factory=list)
    # a partial last line of a truncated gzip: (line_number, text)
    tail: tuple[int, str] | None = None
    header: list[str] | None = None  # CSV header, when one was found
    rows: int = 0  # rows appended to `_stage`


class FileUnreadable(Exception):
    """The file cannot be read at all (not gzip, not parquet, ...)."""


def create_stage(con: duckdb.DuckDBPyConnection, fields: tuple[str, ...]) -> None:
    cols = ", ".join(f"{q(f)} VARCHAR" for f in fields)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGE} (_ln BIGINT, _line BIGINT, _file VARCHAR, "
        f"_raw VARCHAR, _reason VARCHAR, _detail VARCHAR, {cols})"
    )


def _set_files(con: duckdb.DuckDBPyConnection, files: list[tuple[str, int]]) -> None:
    """`_fmap(_f, _base, _file)`: the files read together, _f = position in the read."""
    con.execute("CREATE OR REPLACE TEMP TABLE _fmap (_f INTEGER, _base BIGINT, _file VARCHAR)")
    values = ", ".join("(?, ?, ?)" for _ in files)
    con.execute(
        f"INSERT INTO _fmap VALUES {values}",
        [v for i, (rel, base) in enumerate(files) for v in (i, base, rel)],
    )


def _emit(con: duckdb.DuckDBPyConnection, select: str, params: dict | None = None) -> None:
    """Append the rows of `select` (_f, _ln = row ordinal in its file, ...) to `_stage`."""
    con.execute(
        f"INSERT INTO {STAGE} BY NAME SELECT * EXCLUDE (_f, _base) REPLACE (_base + _ln AS _ln) "
        f"FROM ({select}) JOIN _fmap USING (_f)",
        params or {},
    )


def _nullify(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


# -- gzip ---------------------------------------------------------------------
def gunzip(src: Path, dst: Path) -> tuple[bool, str | None]:
    """Stream-decompress src to dst. Returns (complete, problem).

    DuckDB silently stops at the end of a truncated gzip stream, so we inflate
    ourselves (chunked, output capped per call: bounded memory) to notice
    truncation and corruption. Multi-member gzip files are supported.
    """
    chunk = 1 << 20
    written = 0
    pending = False  # the current member has started but not ended
    dec = zlib.decompressobj(wbits=31)
    with src.open("rb") as fin, dst.open("wb") as fout:
        while data := fin.read(chunk):
            while data:
                try:
                    out = dec.decompress(data, 16 * chunk)
                except zlib.error as exc:
                    if written == 0:
                        raise FileUnreadable(f"not a readable gzip file: {exc}") from exc
                    return False, f"corrupt gzip data after {written} bytes ({exc})"
                fout.write(out)
                written += len(out)
                if dec.eof:
                    data = dec.unused_data
                    dec = zlib.decompressobj(wbits=31)
                    pending = False
                else:
                    data = dec.unconsumed_tail
                    pending = True
    if pending:
        if written == 0:
            raise FileUnreadable("not a readable gzip file (no data could be decompressed)")
        return False, f"truncated gzip: the stream ends after {written} bytes"
    return True, None


def split_tail(path: Path) -> str | None:
    """Cut an incomplete last line off a recovered file; return it (or None)."""
    size = path.stat().st_size
    if size == 0:
        return None
    with path.open("r+b") as handle:
        pos = size
        step = 1 << 16
        while pos > 0:
            start = max(0, pos - step)
            handle.seek(start)
            block = handle.read(pos - start)
            nl = block.rfind(b"\n")
            if nl >= 0:
                cut = start + nl + 1
                break
            pos = start
        else:
            cut = 0
        if cut == size:
            return None
        handle.seek(cut)
        tail = handle.read(min(size - cut, MAX_RAW * 4))
        handle.truncate(cut)
    return tail.decode("utf-8", errors="replace")[:MAX_RAW]


# -- lines ----------------------------------------------------------------------
class LineCountMismatch(RuntimeError):
    """The scanner's rows cannot be reconciled with the independent line count."""


def _rejected_lines(
    files: list[Path], scans: list[LineScan], good: dict[int, int], changed: set[int]
) -> list[tuple]:
    """(_f, line, text, reason, detail) of every physical line the scanner did not
    return as a row, from the independent count: the invalid UTF-8 lines, and of the
    long lines the longest ones (the scanner rejects by length), as many as it
    dropped. Raises LineCountMismatch when the counts cannot be explained."""
    out: list[tuple] = []
    for f, scan in enumerate(scans):
        if scan.lone_cr or f in changed:
            continue  # lines end in a lone CR somewhere: counted by the scanner only
        missing = scan.lines - good.get(f, 0) - len(scan.invalid_utf8)
        by_length = sorted(scan.long, key=lambda item: -item[1])
        if (
            missing < 0
            or missing > len(by_length)
            or (0 < missing < len(by_length) and by_length[missing - 1][1] == by_length[missing][1])
        ):
            raise LineCountMismatch(
                f"{files[f]}: {scan.lines} lines counted, the reader returned {good.get(f, 0)} "
                f"and {len(scan.invalid_utf8)} are not UTF-8"
            )
        for line, head in scan.invalid_utf8:
            text = head.decode("utf-8", errors="replace")[:MAX_RAW]
            out.append((f, line, text, Reason.INVALID_UTF8.value, "INVALID ENCODING"))
        for line, size, head in by_length[:missing]:
            text = head.decode("utf-8", errors="replace")[:MAX_RAW]
            detail = f"line of {size:,} bytes, longer than the reader's limit (found by counting)"
            out.append((f, line, text, Reason.UNREADABLE_LINE.value, detail))
    return out


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns)


def read_lines(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    csv: bool = False,
    expect: list[tuple[int, int]] | None = None,
) -> set[int]:
    """`_lines(_f, _line, line, _bad, _bad_detail)`: every physical line of the files
    (for CSV: every record, a quoted field may span lines).

    One scan over all files; _f is the file's position in `paths`. Each file is also
    counted independently (ingest.counting): the lines the scanner skipped become
    rows with their reason and physical line number, so nothing is lost unseen.

    expect: each file's (size, mtime_ns) when it was discovered. A file that changed
    since (a writer still appending) is left out and its index returned: it is read
    whole by a later ingest, so a row half-written now is never quarantined.
    """
    con.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")
    files = [str(p) for p in paths]
    scans = [scan_lines(p, csv=csv) for p in paths]
    # With insertion order preserved, the files are scanned in list order and
    # the rows of the new table are stored in file order, so rowid + 1 numbers
    # the lines (a window row_number() costs ten times more); rejected lines are
    # missing from this numbering and are merged back below.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _good AS SELECT file_index::INTEGER AS _f, line "
        f"FROM read_csv($files, {LINE_OPTS})",
        {"files": files},
    )
    # k of the row before each file's first row; each file's rows are contiguous
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _off AS SELECT _f, min(rowid) AS off, "
        "max(rowid) - min(rowid) + 1 = count(*) AS contiguous, count(*) AS n "
        "FROM _good GROUP BY _f"
    )
    if con.execute("SELECT count(*) FROM _off WHERE NOT contiguous").fetchone()[0]:
        raise RuntimeError("line numbering: rows of a file are not contiguous")
    changed = {f for f, path in enumerate(paths) if expect is not None and _stat(path) != expect[f]}
    if changed:
        marks = ", ".join(str(f) for f in sorted(changed))
        con.execute(f"DELETE FROM _good WHERE _f IN ({marks})")
        con.execute(f"DELETE FROM _off WHERE _f IN ({marks})")
    good = dict(con.execute("SELECT _f, n FROM _off").fetchall())
    rejected = _rejected_lines(paths, scans, good, changed)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rej (_f INTEGER, _line BIGINT, text VARCHAR, "
        "reason VARCHAR, detail VARCHAR, i BIGINT)"
    )
    if rejected:
        con.executemany("INSERT INTO _rej VALUES (?, ?, ?, ?, ?, NULL)", rejected)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _rej AS SELECT * EXCLUDE (i), "
            "row_number() OVER (PARTITION BY _f ORDER BY _line) AS i FROM _rej"
        )
    good_rows = "SELECT _f, _good.rowid - off + 1 AS k, line FROM _good JOIN _off USING (_f)"
    if not rejected:
        lines = (
            "SELECT _f, k AS _line, line, NULL::VARCHAR AS _bad, NULL::VARCHAR AS _bad_detail "
            f"FROM ({good_rows})"
        )
    else:
        # good row k of a file sits at physical line k + (number of rejects before it):
        # with g_i = line_i - i good rows before reject i, that is max i with g_i < k.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _gaps AS SELECT _f, _line - i AS g, max(i) AS i "
            "FROM _rej GROUP BY _f, g"
        )
        lines = (
            "SELECT g._f, k + coalesce(r.i, 0) AS _line, line, NULL::VARCHAR AS _bad, "
            f"NULL::VARCHAR AS _bad_detail FROM ({good_rows}) g ASOF LEFT JOIN _gaps r "
            "ON g._f = r._f AND g.k > r.g "
            "UNION ALL SELECT _f, _line, text, reason, detail FROM _rej"
        )
    spans = [
        (f, *span)
        for f, path in enumerate(paths)
        if csv and scans[f].open_quote_lines and f not in changed
        for span in _spans(path)
    ]
    if not spans:
        if not rejected:
            con.execute(f"CREATE OR REPLACE TEMP VIEW _lines AS {lines}")
            return changed
        con.execute(f"CREATE OR REPLACE TEMP TABLE _lines_t AS {lines}")
        con.execute("CREATE OR REPLACE TEMP VIEW _lines AS SELECT * FROM _lines_t")
        return changed
    # CSV records across lines: their lines joined into one record at its first line;
    # a quote that never closes quarantines its line only (the rest read on)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _spans (_f INTEGER, first_line BIGINT, last_line BIGINT)"
    )
    con.executemany("INSERT INTO _spans VALUES (?, ?, ?)", spans)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _lines_t AS WITH l AS ({lines}), "
        "m AS (SELECT l.*, s.first_line FROM l LEFT JOIN _spans s ON l._f = s._f "
        "AND l._line BETWEEN s.first_line AND s.last_line AND s.last_line > s.first_line) "
        "SELECT _f, _line, line, _bad, _bad_detail FROM m WHERE first_line IS NULL "
        "AND (_f, _line) NOT IN (SELECT (_f, first_line) FROM _spans WHERE last_line = first_line) "
        "UNION ALL SELECT _f, _line, line, "
        f"'{Reason.UNTERMINATED_QUOTE.value}', 'a quote opened on this line never closes' "
        "FROM m WHERE first_line IS NULL AND (_f, _line) IN "
        "(SELECT (_f, first_line) FROM _spans WHERE last_line = first_line) "
        "UNION ALL SELECT _f, first_line, string_agg(line, chr(10) ORDER BY _line), "
        "max(_bad), max(_bad_detail) FROM m WHERE first_line IS NOT NULL GROUP BY _f, first_line"
    )
    con.execute("CREATE OR REPLACE TEMP VIEW _lines AS SELECT * FROM _lines_t")
    return changed


def _spans(path: Path) -> list[tuple[int, int]]:
    """Multi-line records (first, last) and unterminated quotes (line, line)."""
    spans, unterminated = csv_record_spans(path)
    return spans + [(line, line) for line in unterminated]


def drop_lines(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "DROP VIEW IF EXISTS _lines; DROP TABLE IF EXISTS _lines_t; DROP TABLE IF EXISTS _good; "
        "DROP TABLE IF EXISTS _off; DROP TABLE IF EXISTS _rej; DROP TABLE IF EXISTS _gaps; "
        "DROP TABLE IF EXISTS _spans"
    )


def _blank(col: str) -> str:
    return f"({col} IS NULL OR trim({col}, ' \t\r') = '')"


# -- per format -----------------------------------------------------------------
def stage_json(con: duckdb.DuckDBPyConnection, fields: tuple[str, ...]) -> None:
    """`_lines` (JSON Lines, or the elements of a JSON array) -> `_stage`."""
    struct = "{" + ", ".join(f'"{f}": "VARCHAR"' for f in fields) + "}"
    cols = ", ".join(f"{_nullify(f'_j.{q(f)}')} AS {q(f)}" for f in fields)
    ok = "(_bad IS NULL AND json_valid(line) AND left(ltrim(line), 1) = '{')"
    known = "[" + ", ".join(f"'{f}'" for f in (*fields, *INGEST_ADDED)) + "]"
    # keys not in the contract that carry a value (null or "" carries none), as for CSV
    # a JSON pointer to the key ('~' and '/' escaped), so any key name is safe
    pointer = "'/' || replace(replace(k, '~', '~0'), '/', '~1')"
    unknown = (
        f"list_filter(json_keys(line), k -> NOT list_contains({known}, k) AND "
        f"nullif(trim(json_extract_string(line, {pointer})), '') IS NOT NULL)"
    )
    _emit(
        con,
        f"SELECT _f, _line AS _ln, _line, line AS _raw, "
        f"CASE WHEN _bad IS NOT NULL THEN _bad WHEN NOT {ok} "
        f"THEN '{Reason.MALFORMED_JSON.value}' "
        f"WHEN len(_unk) > 0 THEN '{Reason.UNKNOWN_FIELD.value}' END AS _reason, "
        f"CASE WHEN _bad IS NOT NULL THEN _bad_detail WHEN NOT {ok} "
        "THEN 'not a valid JSON object' "
        "WHEN len(_unk) > 0 THEN 'unknown fields: ' || array_to_string(_unk, ', ') END "
        f"AS _detail, {cols} "
        f"FROM (SELECT *, CASE WHEN {ok} THEN from_json(line, '{struct}') END AS _j, "
        f"CASE WHEN {ok} THEN {unknown} END AS _unk "
        f"FROM _lines WHERE NOT {_blank('line')} OR _bad IS NOT NULL)",
    )


def stage_json_array(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A .json file holding one array of objects: element i is 'line' i."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _lines_t AS SELECT 0 AS _f, row_number() OVER () AS _line, "
        "json::VARCHAR AS line, NULL::VARCHAR AS _bad, NULL::VARCHAR AS _bad_detail "
        "FROM read_json_objects(?, format = 'array')",
        [str(path)],
    )
    con.execute("CREATE OR REPLACE TEMP VIEW _lines AS SELECT * FROM _lines_t")


def parse_header(text: str) -> list[str]:
    row = next(csv.reader(io.StringIO(text)), [])
    return [c.strip().lstrip("\ufeff").strip().lower() for c in row]


def _csv_columns(
    fields: tuple[str, ...], head_text: str, result: ReadResult
) -> tuple[str, str, str]:
    """(reason, detail, columns) SQL for the rows under this header; notes into result."""
    header = parse_header(head_text)
    result.header = header
    wrong_delim = len(header) == 1 and any(d in head_text for d in (";", "\t", "|"))
    if wrong_delim:
        delim = next(d for d in (";", "\t", "|") if d in head_text)
        result.status = "rejected"
        result.messages.append(
            f"wrong delimiter: the header is split by {delim!r}, not ','; "
            "every row quarantined as wrong_delimiter"
        )
        reason_expr = f"'{Reason.WRONG_DELIMITER.value}'"
        detail_expr = "'delimiter " + {";": "semicolon", "\t": "tab", "|": "pipe"}[delim] + "'"
        cols = ", ".join(f"NULL::VARCHAR AS {q(f)}" for f in fields)
        return reason_expr, detail_expr, cols
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        result.messages.append(f"duplicate header columns (first one used): {dup}")
    missing = [f for f in fields if f not in header]
    extra = _unknown(fields, header)
    if extra:
        result.messages.append(
            f"columns not in the contract: {extra}; rows with a value in them are "
            "quarantined as unknown_field"
        )
    if missing:
        result.messages.append(f"columns not in the header (read as empty): {missing}")
    n = len(header)
    reason_expr = f"CASE WHEN len(_v) <> {n} THEN '{Reason.COLUMN_COUNT.value}' END"
    detail_expr = f"CASE WHEN len(_v) <> {n} THEN 'expected {n} columns, got ' || len(_v) END"
    if extra:
        cond, detail = _unknown_case([(c, f"_v[{header.index(c) + 1}]") for c in extra])
        reason_expr = reason_expr.replace(
            " END", f" WHEN {cond} THEN '{Reason.UNKNOWN_FIELD.value}' END"
        )
        detail_expr = detail_expr.replace(" END", f" WHEN {cond} THEN {detail} END")
    cols = ", ".join(
        (f"{_nullify(f'_v[{header.index(f) + 1}]')}" if f in header else "NULL::VARCHAR")
        + f" AS {q(f)}"
        for f in fields
    )
    return reason_expr, detail_expr, cols


def stage_csv(
    con: duckdb.DuckDBPyConnection, fields: tuple[str, ...], results: list[ReadResult]
) -> None:
    """`_lines` of CSV files -> `_stage`; one statement per distinct header."""
    # each file's header: its first readable non-blank line
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _heads AS SELECT _f, min(_line) AS head_line, "
        f"arg_min(line, _line) AS head_text FROM _lines WHERE NOT {_blank('line')} "
        "AND _bad IS NULL GROUP BY _f"
    )
    heads = dict(
        (f, text) for f, text in con.execute("SELECT _f, head_text FROM _heads").fetchall()
    )
    headless = [f for f in range(len(results)) if f not in heads]
    if headless:
        # nothing but unreadable lines: each is quarantined with its reason
        _emit(
            con,
            "SELECT _f, _line AS _ln, _line, line AS _raw, _bad AS _reason, "
            f"_bad_detail AS _detail FROM _lines WHERE _bad IS NOT NULL AND _f IN "
            f"({', '.join(str(f) for f in headless)})",
        )
    groups: dict[str, list[int]] = {}
    for f, text in sorted(heads.items()):
        groups.setdefault(text, []).append(f)
    for text, members in groups.items():
        reason_expr, detail_expr, cols = _csv_columns(fields, text, results[members[0]])
        for f in members[1:]:
            _csv_columns(fields, text, results[f])
        where = "" if len(groups) == 1 else f"AND _f IN ({', '.join(str(f) for f in members)})"
        _emit(
            con,
            f"SELECT _f, _line AS _ln, _line, line AS _raw, "
            f"coalesce(_bad, {reason_expr}) AS _reason, "
            f"CASE WHEN _bad IS NOT NULL THEN _bad_detail ELSE {detail_expr} END AS _detail, "
            f"{cols} FROM (SELECT l.*, CASE WHEN _bad IS NULL THEN {CSV_SPLIT} END AS _v "
            "FROM _lines l JOIN _heads h USING (_f) "
            f"WHERE _line <> head_line AND (NOT {_blank('line')} OR _bad IS NOT NULL) {where})",
        )
    con.execute("DROP TABLE IF EXISTS _heads")


def stage_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, fields: tuple[str, ...], result: ReadResult
) -> None:
    try:
        # the top-level columns (parquet_schema also lists the root and nested elements)
        desc = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise FileUnreadable(f"not a readable parquet file: {exc}") from exc
    present = {r[0].lower(): r[0] for r in desc}
    extra = _unknown(fields, list(present))
    missing = [f for f in fields if f not in present]
    reason = detail = "NULL::VARCHAR"
    if extra:
        result.messages.append(
            f"columns not in the contract: {extra}; rows with a value in them are "
            "quarantined as unknown_field"
        )
        cond, text = _unknown_case([(c, f"CAST({q(present[c])} AS VARCHAR)") for c in extra])
        reason = f"CASE WHEN {cond} THEN '{Reason.UNKNOWN_FIELD.value}' END"
        detail = f"CASE WHEN {cond} THEN {text} END"
    if missing:
        result.messages.append(f"columns not in the file (read as empty): {missing}")
    # typed parquet values are cast to text and then validated like any other
    # input (a TIMESTAMP without zone renders without offset and is rejected)
    cols = ", ".join(
        (_nullify(f"CAST({q(present[f])} AS VARCHAR)") if f in present else "NULL::VARCHAR")
        + f" AS {q(f)}"
        for f in fields
    )
    _emit(
        con,
        "SELECT 0 AS _f, file_row_number + 1 AS _ln, file_row_number + 1 AS _line, "
        f"{reason} AS _reason, {detail} AS _detail, "
        f"{cols} FROM read_parquet($path, file_row_number = true)",
        {"path": str(path)},
    )
    # the row groups' own count, independent of the scan
    (counted,) = con.execute(
        "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)", [str(path)]
    ).fetchone()
    (staged,) = con.execute(
        f"SELECT count(*) FROM {STAGE} WHERE _file = (SELECT _file FROM _fmap)"
    ).fetchone()
    if counted != staged:
        raise LineCountMismatch(f"{path}: the row groups hold {counted} rows, {staged} were read")


def _first_char(head: bytes) -> str:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4096)


def gzip_intact(path: Path) -> tuple[bool, bytes]:
    """(one complete, readable gzip member, its first decompressed bytes).

    Streams through the file without writing anything (bounded memory). Only an
    intact single-member file is handed to DuckDB as it is: DuckDB stops silently
    at the end of a truncated stream, so anything else goes through `gunzip`.
    """
    chunk = 1 << 20
    dec = zlib.decompressobj(wbits=31)
    head = b""
    with path.open("rb") as fin:
        while data := fin.read(chunk):
            while data:
                try:
                    out = dec.decompress(data, 16 * chunk)
                except zlib.error:
                    return False, head
                if len(head) < 4096:
                    head += out[: 4096 - len(head)]
                if dec.eof:
                    if dec.unused_data or fin.read(1):
                        return False, head  # another member follows
                    return True, head
                data = dec.unconsumed_tail
    return False, head


def line_readable(file: LandingFile) -> bool:
    """Can this file be read with others of its source in one multi-file scan?"""
    if file.format not in ("csv", "json"):
        return False
    if file.gzip:
        ok, head = gzip_intact(file.path)
        if not ok:
            return False
    else:
        head = _head(file.path)
    # a .json file holding one JSON array is read on its own
    return not (file.format == "json" and _first_char(head) == "[")


def stage_line_files(
    con: duckdb.DuckDBPyConnection, files: list[tuple[LandingFile, int]], domain: Domain
) -> list[ReadResult]:
    """Append line-readable files (of one source; ordinal in the batch) to `_stage`.

    One scan and one parse per format (and per CSV header) for all the files.
    """
    results = [ReadResult() for _ in files]
    if not files:
        return results
    fields = domain.source_fields(files[0][0].source)
    for fmt in ("json", "csv"):
        part = [i for i, (f, _) in enumerate(files) if f.format == fmt]
        if not part:
            continue
        _set_files(con, [(files[i][0].rel, files[i][1] << 32) for i in part])
        changed = read_lines(
            con,
            [files[i][0].path for i in part],
            csv=fmt == "csv",
            expect=[(files[i][0].size, files[i][0].mtime_ns) for i in part],
        )
        for f in changed:
            results[part[f]].status = "changed"
            results[part[f]].messages.append("changed while it was read: read again next time")
        if fmt == "json":
            stage_json(con, fields)
        else:
            stage_csv(con, fields, [results[i] for i in part])
        drop_lines(con)
    return results


def stage_file(
    con: duckdb.DuckDBPyConnection,
    file: LandingFile,
    domain: Domain,
    scratch: Path,
    ordinal: int = 0,
) -> ReadResult:
    """Append one landing file's rows to `_stage`; file-level problems go into the result.

    ordinal: the file's position in the batch (makes `_ln` unique across files).
    """
    result = ReadResult()
    _set_files(con, [(file.rel, int(ordinal) << 32)])
    fields = domain.source_fields(file.source)
    path = file.path
    tmp: Path | None = None
    try:
        if file.gzip:
            scratch.mkdir(parents=True, exist_ok=True)
            tmp = scratch / "gunzip.tmp"
            complete, problem = gunzip(path, tmp)
            path = tmp
            if not complete:
                tail = split_tail(tmp)
                result.messages.append(
                    f"{problem}; the complete lines before it were read"
                    + ("" if tail is None else ", the partial last line is quarantined")
                )
                if tail is not None:
                    result.tail = (-1, tail)  # line number filled in below
        if file.format == "parquet":
            stage_parquet(con, path, fields, result)
        elif file.format == "json" and path.stat().st_size and _first_char(_head(path)) == "[":
            try:
                stage_json_array(con, path)
            except duckdb.Error as exc:
                raise FileUnreadable(f"not a readable JSON array: {exc}") from exc
            stage_json(con, fields)
        else:
            read_lines(con, [path], csv=file.format == "csv")
            if result.tail is not None:
                (last,) = con.execute("SELECT coalesce(max(_line), 0) FROM _lines").fetchone()
                result.tail = (int(last) + 1, result.tail[1])
            if file.format == "json":
                stage_json(con, fields)
            else:
                stage_csv(con, fields, [result])
        drop_lines(con)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return result
