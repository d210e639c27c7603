"""Count a text file's lines independently of DuckDB's reader, and find the lines it
cannot return.

DuckDB's CSV scanner (which ingest uses to split lines) rejects over-long lines and
does not always record them in its rejects table (a 50 MiB line vanishes and the
rows after it are numbered one too low). So every line file is also scanned here,
in C-speed chunks with bounded memory: the number of physical lines, every line
long enough that the scanner may reject it (with its length), the lines that are
not valid UTF-8, and for CSV the lines where a quoted field stays open (a record
that spans lines, or a quote that never closes). `ingest.readers` reconciles the
scanner's rows with these counts and numbers every row by its physical line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 22
# lines above this may be rejected by DuckDB's scanner (its limit is ~2 MiB)
LONG_LINE = 1 << 20
HEAD = 4000  # bytes of a long or unreadable line kept for quarantine

_LONG = re.compile(rb"[^\n]{%d,}" % (LONG_LINE + 1))
# a line with an odd number of double quotes leaves a quoted field open
_LONE_CR = re.compile(rb"\r(?!\n)")
_ODD_QUOTES = re.compile(rb'(?m)^[^"\n]*"(?:[^"\n]*"[^"\n]*")*[^"\n]*$')


@dataclass
class LineScan:
    lines: int = 0  # physical lines (a last line without newline counts)
    long: list[tuple[int, int, bytes]] = field(default_factory=list)  # (line, bytes, head)
    invalid_utf8: list[tuple[int, bytes]] = field(default_factory=list)  # (line, head)
    open_quote_lines: int = 0  # CSV: lines whose quotes do not pair up
    lone_cr: bool = False  # old Mac line ends: the scanner splits there too, not counted


def _scan_bulk(bulk: bytes, first_line: int, scan: LineScan, csv: bool) -> None:
    """Complete lines `bulk` (each ending in a newline) starting at `first_line`."""
    for m in _LONG.finditer(bulk):
        line = first_line + bulk.count(b"\n", 0, m.start())
        scan.long.append((line, m.end() - m.start(), m.group()[:HEAD]))
    try:
        bulk.decode("utf-8")
    except UnicodeDecodeError:
        for i, text in enumerate(bulk.split(b"\n")[:-1]):
            try:
                text.decode("utf-8")
            except UnicodeDecodeError:
                scan.invalid_utf8.append((first_line + i, text[:HEAD]))
    if b"\r" in bulk and _LONE_CR.search(bulk):
        scan.lone_cr = True
    if csv and b'"' in bulk:
        scan.open_quote_lines += len(_ODD_QUOTES.findall(bulk))


def scan_lines(path: Path, csv: bool = False) -> LineScan:
    scan = LineScan()
    pending = b""  # the current unfinished line (its head only, once it is long)
    pending_len = 0
    with _opener(path) as handle:
        while chunk := handle.read(CHUNK):
            last = chunk.rfind(b"\n")
            if last < 0:
                pending_len += len(chunk)
                if len(pending) <= LONG_LINE:
                    pending += chunk[: LONG_LINE + 1 - len(pending)]
                continue
            first = chunk.find(b"\n")
            # the line that was pending ends at `first`
            head = chunk[:first]
            whole_len = pending_len + len(head)
            if whole_len > LONG_LINE:
                scan.lines += 1
                scan.long.append((scan.lines, whole_len, (pending + head)[:HEAD]))
            else:
                _scan_bulk(pending + head + b"\n", scan.lines + 1, scan, csv)
                scan.lines += 1
            bulk = chunk[first + 1 : last + 1]
            if bulk:
                _scan_bulk(bulk, scan.lines + 1, scan, csv)
                scan.lines += bulk.count(b"\n")
            pending = chunk[last + 1 :]
            pending_len = len(pending)
    if pending_len:
        scan.lines += 1
        if pending_len > LONG_LINE:
            scan.long.append((scan.lines, pending_len, pending[:HEAD]))
        else:
            _scan_bulk(pending + b"\n", scan.lines, scan, csv)
    return scan


def _opener(path: Path):
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rb")
    return path.open("rb")


def csv_record_spans(path: Path) -> tuple[list[tuple[int, int]], list[int]]:
    """CSV records that span lines, as (first line, last line), and the lines whose
    quote never closes (each such line is its own bad record; the lines after it are
    read again as records of their own). Only called for files with open quotes."""
    with _opener(path) as handle:
        parity = [text.count(b'"') % 2 for text in handle]
    spans: list[tuple[int, int]] = []
    unterminated: list[int] = []
    i, n = 0, len(parity)
    while i < n:
        if not parity[i]:
            i += 1
            continue
        j = i + 1
        while j < n and not parity[j]:
            j += 1
        if j >= n:  # the quote opened on line i + 1 never closes
            unterminated.append(i + 1)
            i += 1
            continue
        spans.append((i + 1, j + 1))
        i = j + 1
    return spans, unterminated
