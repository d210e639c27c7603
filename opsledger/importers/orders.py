"""`opsledger import orders FILE --mapping M`: an order-line export -> contract events.

Everything runs inside DuckDB (vectorised SQL over the whole file); Python only
orchestrates. The steps, each documented in docs/importing.md:

1. read the file (CSV / gzip CSV / Parquet / Excel) as text, one row per line;
2. parse and classify every row: quarantined (with a reason), exact duplicate,
   non-product (fees, postage, bad debt...), sale, return, stock write-off or
   found stock;
3. match returns to the sale line they reverse (same customer, same SKU, the
   earliest earlier line with enough unreturned quantity);
4. build the events (deterministic ids), infer the minimum stock receipts that
   keep the ledger non-negative, and master data for every SKU used;
5. write one parquet file per source under <home>/landing/<source>/, plus the
   quarantine (JSON Lines) and audit (parquet) files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb

from opsledger.core.errors import BadInput
from opsledger.core.paths import HomePaths
from opsledger.importers.landing import file_digest, write_sources
from opsledger.importers.mapping import COLUMN_ROLES, OrderMapping, load_mapping
from opsledger.importers.summary import ImportSummary
from opsledger.models.domain import load_domain

EVENT_KINDS = ("sale", "return", "write_off", "found")
MAX_MATCH_ROUNDS = 100_000


class ImportFailed(BadInput, RuntimeError):
    """The input file cannot be imported at all."""


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- 1. read --------------------------------------------------------------------------
def _read_input(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Create `_file(_row, <columns as VARCHAR>)` and `_rejects(_row, _raw, _detail)`."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        con.execute(
            "CREATE TEMP TABLE _file AS SELECT * REPLACE (file_row_number + 1 AS file_row_number) "
            "FROM read_parquet(?, file_row_number = true)",
            [str(path)],
        )
        con.execute('ALTER TABLE _file RENAME COLUMN file_row_number TO "_row"')
    elif name.endswith((".xlsx", ".xlsm", ".xls")):
        try:
            import polars as pl

            frame = pl.read_excel(path, infer_schema_length=0)
        except ImportError as exc:  # fastexcel (calamine) or openpyxl missing
            raise ImportFailed(
                f"reading Excel needs the optional 'excel' extra (fastexcel): {exc}"
            ) from exc
        frame = frame.with_row_index("_row", offset=1)
        con.register("_xl", frame.to_arrow())
        con.execute("CREATE TEMP TABLE _file AS SELECT * FROM _xl")
        con.unregister("_xl")
    elif name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz")):
        con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        con.execute(
            "CREATE TEMP TABLE _file AS SELECT row_number() OVER () AS _row, * FROM read_csv(?, "
            "header = true, all_varchar = true, store_rejects = true, encoding = 'utf-8')",
            [str(path)],
        )
        con.execute(
            "CREATE TEMP TABLE _rejects AS SELECT line AS _row, any_value(csv_line) AS _raw, "
            "string_agg(DISTINCT error_type || ': ' || error_message, '; ') AS _detail "
            "FROM reject_errors GROUP BY line"
        )
    else:
        raise ImportFailed(
            f"unsupported file type {path.name!r}: use CSV, gzip CSV, Parquet or Excel"
        )
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _rejects (_row BIGINT, _raw VARCHAR, _detail VARCHAR)"
    )
    return [r[0] for r in con.execute("DESCRIBE _file").fetchall() if r[0] != "_row"]


# -- 2. parse and classify ------------------------------------------------------------
def _parse_sql(m: OrderMapping, file_cols: list[str]) -> str:
    cols = m.columns
    lower = {c.lower(): c for c in file_cols}

    def col(role: str) -> str:
        if role not in cols:
            return "NULL::VARCHAR"
        return f"nullif(trim(CAST({_ident(lower[cols[role].lower()])} AS VARCHAR)), '')"

    tz = _lit(m.timezone)
    if m.time_format:
        local = f"try_strptime(time, {_lit(m.time_format)})"
    else:
        local = "try_cast(time AS TIMESTAMP)"
    # values with their own zone are taken as they are; others are wall-clock in `timezone`
    zoned = r"regexp_matches(time, '(Z|[+-]\d\d:?\d\d)$')"
    content = (
        "md5(concat_ws(chr(31), "
        + ", ".join(f"coalesce(CAST({_ident(c)} AS VARCHAR), chr(0))" for c in file_cols)
        + "))"
    )
    key = "_content" if "line" not in cols else "invoice || chr(31) || line"
    roles = ", ".join(f"{col(r)} AS {r}" for r in COLUMN_ROLES)
    return f"""
    CREATE TEMP TABLE _rows AS
    WITH base AS (
        SELECT _row, {roles}, {content} AS _content
        FROM _file
    ), parsed AS (
        SELECT *, {key} AS _key,
            try_cast(quantity AS DOUBLE) AS _qd,
            try_cast(unit_price AS DECIMAL(18, 4)) AS _p,
            try_cast(unit_cost AS DECIMAL(18, 4)) AS _c,
            CASE WHEN {zoned} THEN try_cast(time AS TIMESTAMPTZ) ELSE timezone({tz}, {local}) END AS _ts,
            CASE WHEN {zoned} THEN NULL ELSE {local} END AS _local
        FROM base
    )
    SELECT *, CASE WHEN _qd = round(_qd) AND abs(_qd) < 1e12 THEN CAST(_qd AS BIGINT) END AS _q,
        CASE WHEN _local IS NULL THEN _iso(_ts) ELSE strftime(_local, '%Y-%m-%dT%H:%M:%S')
             || _off(date_diff('minute', timezone('UTC', _ts), _local)) END AS _iso_t,
        row_number() OVER (PARTITION BY _key ORDER BY _row) AS _occ,
        first_value(_content) OVER (PARTITION BY _key ORDER BY _row) AS _first_content,
        first_value(_row) OVER (PARTITION BY _key ORDER BY _row) AS _first_row
    FROM parsed
    """


def _classify_sql(m: OrderMapping) -> str:
    def prefixes(ps: tuple[str, ...]) -> str:
        if not ps:
            return "false"
        return "(" + " OR ".join(f"starts_with(invoice, {_lit(p)})" for p in ps) + ")"

    codes = ", ".join(_lit(c) for c in m.non_product_codes) or "NULL"
    code_kind = " ".join(
        f"WHEN upper(sku) = {_lit(c)} THEN {_lit(k)}" for c, k in m.non_product_codes.items()
    )
    pat_kind = " ".join(
        f"WHEN regexp_matches(sku, {_lit(p)}) THEN {_lit(k)}" for p, k in m.non_product_patterns
    )
    non_product_kind = f"CASE {code_kind} {pat_kind} END" if (code_kind or pat_kind) else "NULL"
    q = "(_qd = round(_qd))"
    checks = [
        (
            "_occ > 1 AND _content <> _first_content",
            "'conflicting_line'",
            "'line key repeats row ' || _first_row || ' with different values'",
        ),
        ("invoice IS NULL", "'missing_invoice'", "NULL"),
        ("sku IS NULL", "'missing_sku'", "NULL"),
        ("quantity IS NULL", "'missing_quantity'", "NULL"),
        (f"_qd IS NULL OR NOT {q} OR _q IS NULL", "'invalid_quantity'", "'quantity=' || quantity"),
        ("_q = 0", "'zero_quantity'", "NULL"),
        ("unit_price IS NULL", "'missing_price'", "NULL"),
        ("_p IS NULL", "'invalid_price'", "'unit_price=' || unit_price"),
        (
            "unit_cost IS NOT NULL AND (_c IS NULL OR _c < 0)",
            "'invalid_cost'",
            "'unit_cost=' || unit_cost",
        ),
        ("time IS NULL", "'missing_time'", "NULL"),
        ("_ts IS NULL", "'invalid_time'", "'time=' || time"),
        (
            f"_local IS NOT NULL AND timezone({_lit(m.timezone)}, _ts) <> _local",
            "'nonexistent_local_time'",
            f"'{m.timezone} has no ' || time",
        ),
    ]
    if "channel" in m.columns:
        checks.append(("channel IS NULL", "'missing_channel'", "NULL"))
    reason = "CASE " + " ".join(f"WHEN {c} THEN {r}" for c, r, _ in checks) + " END"
    detail = "CASE " + " ".join(f"WHEN {c} THEN {d}" for c, _, d in checks) + " END"
    credit = prefixes(m.credit_prefixes)
    bad_debt = prefixes(m.bad_debt_prefixes)
    kind = f"""CASE
        WHEN _reason IS NOT NULL THEN 'quarantined'
        WHEN {bad_debt} THEN 'non_product'
        WHEN upper(sku) IN ({codes}) OR ({non_product_kind}) IS NOT NULL THEN 'non_product'
        WHEN {credit} AND _q > 0 THEN 'quarantined'
        WHEN _p < 0 THEN 'quarantined'
        WHEN {credit} THEN 'return'
        WHEN _q < 0 AND _p = 0 AND {str(m.write_offs_enabled).lower()} THEN 'write_off'
        WHEN _q < 0 AND {str(m.negative_quantity_is_return).lower()} THEN 'return'
        WHEN _q < 0 THEN 'quarantined'
        WHEN _p = 0 AND customer IS NULL AND {str(m.found_stock_enabled).lower()} THEN 'found'
        ELSE 'sale' END"""
    late_reason = f"""CASE WHEN _kind0 = 'quarantined' AND _reason IS NULL THEN CASE
        WHEN {credit} AND _q > 0 THEN 'credit_note_positive_quantity'
        WHEN _p < 0 THEN 'negative_price'
        ELSE 'negative_quantity' END ELSE _reason END"""
    wo_reason = " ".join(
        f"WHEN regexp_matches(coalesce(description, ''), {_lit(r.pattern)}, 'i') "
        f"THEN {_lit(r.reason_code)}"
        for r in m.write_off_rules
    )
    wo_state = " ".join(
        f"WHEN regexp_matches(coalesce(description, ''), {_lit(r.pattern)}, 'i') "
        f"THEN {_lit(r.to_state)}"
        for r in m.write_off_rules
    )
    return f"""
    CREATE TEMP TABLE _classified AS
    SELECT * EXCLUDE (_kind0, _reason), {late_reason} AS _reason,
        CASE WHEN _occ > 1 AND _content = _first_content THEN 'duplicate' ELSE _kind0 END AS _kind,
        CASE WHEN _kind0 = 'non_product' THEN coalesce(
            CASE WHEN {bad_debt} THEN 'bad_debt' END, {non_product_kind}, 'non_product') END
            AS _np_kind,
        CASE WHEN _kind0 = 'write_off' THEN CASE {wo_reason} END END AS _wo_reason,
        CASE WHEN _kind0 = 'write_off' THEN CASE {wo_state} END END AS _wo_state,
        invoice || '-' || left(md5(_key), 10) AS _line_id
    FROM (
        SELECT *, {kind} AS _kind0
        FROM (SELECT *, CASE WHEN _occ > 1 AND _content = _first_content THEN NULL
                        ELSE {reason} END AS _reason,
                        CASE WHEN _occ > 1 AND _content = _first_content THEN NULL
                        ELSE {detail} END AS _detail
              FROM _rows)
    )
    """


# -- 3. match returns ---------------------------------------------------------------
def _match_returns(con: duckdb.DuckDBPyConnection) -> int:
    """Fill `_match(_row, orig_line_id, orig_invoice)` for the returns that find their sale.

    Rule: same customer, same SKU, the earliest sale line at or before the return
    with enough unreturned quantity for the whole return line, sold at a unit
    price at least the credit's (a refund never exceeds what the line earned,
    the warehouse's refunds-within-paid invariant); returns are taken
    in time order (then row order) per customer and SKU, and each consumes what
    it matched. Vectorised by rounds: round k handles the k-th return of every
    (customer, SKU) pair at once, so the number of rounds is the largest number
    of returns one customer made of one SKU, not the number of returns.
    """
    con.execute(
        "CREATE TEMP TABLE _ret AS SELECT _row, customer, sku, _ts, _p, -_q AS qty, "
        "row_number() OVER (PARTITION BY customer, sku ORDER BY _ts, _row) AS k "
        "FROM _classified WHERE _kind = 'return' AND customer IS NOT NULL"
    )
    con.execute(
        "CREATE TEMP TABLE _cand AS SELECT s._row, s.customer, s.sku, s._ts, s._p, "
        "s._q AS remaining, "
        "s._line_id, s.invoice FROM _classified s "
        "SEMI JOIN (SELECT DISTINCT customer, sku FROM _ret) r USING (customer, sku) "
        "WHERE s._kind = 'sale'"
    )
    con.execute(
        "CREATE TEMP TABLE _match (_row BIGINT, orig_row BIGINT, orig_line_id VARCHAR, "
        "orig_invoice VARCHAR)"
    )
    (rounds,) = con.execute("SELECT coalesce(max(k), 0) FROM _ret").fetchone()
    for k in range(1, min(int(rounds), MAX_MATCH_ROUNDS) + 1):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _pick AS SELECT r._row, "
            "arg_min(c._row, (c._ts, c._row)) AS orig_row FROM _ret r JOIN _cand c "
            "ON c.customer = r.customer AND c.sku = r.sku AND c._ts <= r._ts "
            "AND c.remaining >= r.qty AND c._p >= r._p WHERE r.k = $k GROUP BY r._row",
            {"k": k},
        )
        con.execute(
            "INSERT INTO _match SELECT p._row, p.orig_row, c._line_id, c.invoice "
            "FROM _pick p JOIN _cand c ON c._row = p.orig_row"
        )
        con.execute(
            "UPDATE _cand SET remaining = remaining - r.qty FROM _pick p JOIN _ret r "
            "ON r._row = p._row WHERE _cand._row = p.orig_row"
        )
    return int(rounds)


# -- 4. events --------------------------------------------------------------------------
def _macros(m: OrderMapping) -> list[str]:
    tz = _lit(m.timezone)
    name = _lit(m.name)
    macros = [
        "CREATE OR REPLACE TEMP MACRO _off(mins) AS CASE WHEN mins < 0 THEN '-' ELSE '+' END "
        "|| lpad(CAST(abs(mins) // 60 AS VARCHAR), 2, '0') || ':' "
        "|| lpad(CAST(abs(mins) % 60 AS VARCHAR), 2, '0')",
        f"CREATE OR REPLACE TEMP MACRO _iso(t) AS strftime(timezone({tz}, t), '%Y-%m-%dT%H:%M:%S') "
        f"|| _off(date_diff('minute', timezone('UTC', t), timezone({tz}, t)))",
        f"CREATE OR REPLACE TEMP MACRO _eid(et, k) AS {name} || ':' || et || ':' "
        f"|| left(md5({name} || chr(31) || et || chr(31) || k), 20)",
    ]
    return macros


def _events_sql(m: OrderMapping) -> list[str]:
    """Statements building `_ev` (one row per event, text columns)."""
    src = _lit(m.source)
    inf = _lit(m.inferred_source)
    node = _lit(m.node_id)
    cur = _lit(m.currency)
    channel = "channel" if "channel" in m.columns else _lit(m.channel_constant or "")
    promise = f"INTERVAL '{int(m.promise_hours * 3600)} seconds'"
    promised = "_iso_t" if not m.promise_hours else f"_iso(_ts + {promise})"
    qty = "CAST(abs(_q) AS VARCHAR)"
    price = "CAST(_p AS VARCHAR)"
    rows = "FROM _classified"
    ret = "FROM _classified c LEFT JOIN _match x USING (_row) WHERE c._kind = 'return'"
    parts = [
        # sales: the order line, and its (inferred) shipment at invoice time
        f"SELECT _eid('order_placed', _key) AS event_id, 'order_placed' AS event_type, "
        f"_iso_t AS event_time, {src} AS source, invoice AS order_id, _line_id AS order_line_id, "
        f"{channel} AS channel, sku, {qty} AS quantity, {price} AS unit_price, {cur} AS currency, "
        f"{promised} AS promised_by, customer AS customer_id, {node} AS node_id, "
        f"_ts AS _t {rows} WHERE _kind = 'sale'",
        f"SELECT _eid('shipped', _key), 'shipped', _iso_t, {inf}, invoice, _line_id, "
        f"NULL, sku, {qty}, NULL, NULL, NULL, NULL, {node}, _ts {rows} WHERE _kind = 'sale'",
    ]
    stmts = [
        f"CREATE OR REPLACE TEMP TABLE _ev AS SELECT * FROM ({parts[0]} UNION ALL {parts[1]})",
        "ALTER TABLE _ev ADD COLUMN from_state VARCHAR",
        "ALTER TABLE _ev ADD COLUMN to_state VARCHAR",
        "ALTER TABLE _ev ADD COLUMN shipment_id VARCHAR",
        "UPDATE _ev SET from_state = 'available', to_state = 'customer', shipment_id = order_id "
        "WHERE event_type = 'shipped'",
    ]
    more = [
        # stock write-offs (price-0 negative lines) and found stock, as they are in the export
        f"SELECT _eid('adjustment', _key) AS event_id, 'adjustment' AS event_type, "
        f"_iso_t AS event_time, {src} AS source, {node} AS node_id, sku, {qty} AS quantity, "
        f"'available' AS from_state, _wo_state AS to_state, _wo_reason AS reason_code, "
        f"description AS note, _ts AS _t {rows} WHERE _kind = 'write_off'",
        f"SELECT _eid('adjustment', _key) AS event_id, 'adjustment' AS event_type, "
        f"_iso_t AS event_time, {src} AS source, {node} AS node_id, sku, {qty} AS quantity, "
        f"'adjustment' AS from_state, 'available' AS to_state, 'found' AS reason_code, "
        f"description AS note, _ts AS _t {rows} WHERE _kind = 'found'",
        # matched returns: request, authorisation and refund are what the credit note says
        f"SELECT _eid('return_requested', _key) AS event_id, 'return_requested' AS event_type, "
        f"_iso_t AS event_time, {src} AS source, invoice AS return_id, _line_id AS return_line_id, "
        f"orig_invoice AS order_id, orig_line_id AS order_line_id, sku, {qty} AS quantity, "
        f"{_lit(m.return_reason_code)} AS reason_code, _ts AS _t {ret} AND x._row IS NOT NULL",
        f"SELECT _eid('return_authorized', _key) AS event_id, 'return_authorized' AS event_type, "
        f"_iso_t AS event_time, {src} AS source, invoice AS return_id, "
        f"_line_id AS return_line_id, _ts AS _t {ret} AND x._row IS NOT NULL",
        f"SELECT _eid('refund_issued', _key) AS event_id, 'refund_issued' AS event_type, "
        f"_iso_t AS event_time, {src} AS source, invoice AS return_id, "
        f"_line_id AS return_line_id, orig_line_id AS order_line_id, "
        f"CAST(CAST(abs(_q) * _p AS DECIMAL(18, 4)) AS VARCHAR) AS amount, {cur} AS currency, "
        f"_ts AS _t {ret} AND x._row IS NOT NULL",
        f"SELECT _eid('refund_paid', _key) AS event_id, 'refund_paid' AS event_type, "
        f"_iso_t AS event_time, {src} AS source, invoice AS return_id, "
        f"_line_id AS return_line_id, orig_line_id AS order_line_id, "
        f"CAST(CAST(abs(_q) * _p AS DECIMAL(18, 4)) AS VARCHAR) AS amount, {cur} AS currency, "
        f"_ts AS _t {ret} AND x._row IS NOT NULL",
        # unmatched returns: kept as a cancellation of the credit note's own line (no
        # order line to reverse), counted in the summary
        f"SELECT _eid('order_cancelled', _key) AS event_id, 'order_cancelled' AS event_type, "
        f"_iso_t AS event_time, {src} AS source, invoice AS order_id, "
        f"_line_id AS order_line_id, {qty} AS quantity, "
        f"{_lit(m.cancel_reason_code)} AS reason_code, _ts AS _t {ret} AND x._row IS NULL",
    ]
    if m.infer_return_restock:
        base = (
            f"{inf} AS source, invoice AS return_id, _line_id AS return_line_id, "
            f"{node} AS node_id, sku, {qty} AS quantity"
        )
        more += [
            f"SELECT _eid('return_received', _key) AS event_id, 'return_received' AS event_type, "
            f"_iso_t AS event_time, {base}, 'customer' AS from_state, 'returned' AS to_state, "
            f"_ts AS _t {ret} AND x._row IS NOT NULL",
            f"SELECT _eid('disposition_decided', _key) AS event_id, "
            f"'disposition_decided' AS event_type, _iso(_ts + INTERVAL 1 SECOND) AS event_time, "
            f"{base}, 'restock' AS disposition, 'returned' AS from_state, "
            f"'resale_ready' AS to_state, _ts + INTERVAL 1 SECOND AS _t "
            f"{ret} AND x._row IS NOT NULL",
            f"SELECT _eid('putaway', _key) AS event_id, 'putaway' AS event_type, "
            f"_iso(_ts + INTERVAL 2 SECOND) AS event_time, {inf} AS source, {node} AS node_id, "
            f"sku, {qty} AS quantity, 'resale_ready' AS from_state, 'available' AS to_state, "
            f"_ts + INTERVAL 2 SECOND AS _t {ret} AND x._row IS NOT NULL",
        ]
    stmts += [f"INSERT INTO _ev BY NAME {p}" for p in more]
    return stmts


def _add_missing_columns(con: duckdb.DuckDBPyConnection, cols: list[str]) -> None:
    present = {r[0] for r in con.execute("DESCRIBE _ev").fetchall()}
    for c in cols:
        if c not in present:
            con.execute(f"ALTER TABLE _ev ADD COLUMN {_ident(c)} VARCHAR")


def inferred_receipts_sql(inferred_source: str, period: str) -> str:
    """Minimum receipts keeping `available` >= 0 per node and SKU, booked just before the need.

    Reads and extends `_ev` (needs node_id, sku, quantity, from/to_state, _t).
    Per node and SKU, movements in and out of `available` in time order
    (outflows before inflows at the same instant: the conservative order). The
    running maximum of the shortfall (-cumulative flow) is the stock that must
    have arrived by then; each increase is received, summed per period (day,
    week or month, UTC), one second before the first event of that period that
    needed it. Its cost is unknown: unit_cost is omitted (NULL), never 0, so the
    units enter at the average cost in effect (the product's cost when known).
    """
    inf = _lit(inferred_source)
    win = "PARTITION BY node_id, sku ORDER BY _t, delta, event_id"
    return f"""
    INSERT INTO _ev BY NAME
    WITH flows AS (
        SELECT node_id, sku, _t, event_id,
            CASE WHEN from_state = 'available' THEN -CAST(quantity AS BIGINT)
                 ELSE CAST(quantity AS BIGINT) END AS delta
        FROM _ev WHERE from_state = 'available' OR to_state = 'available'
    ), cum AS (
        SELECT *, sum(delta) OVER ({win} ROWS UNBOUNDED PRECEDING) AS level FROM flows
    ), need AS (
        SELECT *, greatest(0, max(-level) OVER ({win} ROWS UNBOUNDED PRECEDING)) AS need FROM cum
    ), inc AS (
        SELECT node_id, sku, _t, need - coalesce(lag(need) OVER ({win}), 0) AS inc FROM need
    ), periods AS (
        SELECT node_id, sku, CAST(date_trunc({_lit(period)}, timezone('UTC', _t)) AS DATE) AS day,
               min(_t) AS first_t, sum(inc) AS qty
        FROM inc WHERE inc > 0 GROUP BY ALL
    )
    SELECT _eid('po_receipt', node_id || chr(31) || sku || chr(31) || day) AS event_id,
        'po_receipt' AS event_type, _iso(first_t - INTERVAL 1 SECOND) AS event_time,
        {inf} AS source, node_id, sku, CAST(qty AS VARCHAR) AS quantity,
        'INFERRED-' || strftime(day, '%Y%m%d') AS po_id,
        'INFERRED-' || strftime(day, '%Y%m%d') || '-' || node_id || '-' || sku AS po_line_id,
        NULL::VARCHAR AS unit_cost, 'supplier' AS from_state, 'available' AS to_state,
        first_t - INTERVAL 1 SECOND AS _t
    FROM periods
    """


def _master_sql(m: OrderMapping) -> list[str]:
    """Master data for the import: supplier, node, channel(s), every SKU used (known-unknown)."""
    src = _lit(m.inferred_source)
    node = _lit(m.node_id)
    sup = _lit(m.supplier_id)
    ratio_value = m.cost_ratios.get(m.category, m.cost_ratios.get("default"))
    ratio = "NULL::DOUBLE" if ratio_value is None else repr(float(ratio_value))
    channels = (
        "SELECT DISTINCT channel AS c FROM _classified WHERE _kind IN ('sale', 'return')"
        if "channel" in m.columns
        else f"SELECT {_lit(m.channel_constant or '')} AS c"
    )
    return [
        "CREATE OR REPLACE TEMP TABLE _t0 AS SELECT min(_t) - INTERVAL 1 MINUTE AS t0 FROM _ev",
        f"""INSERT INTO _ev BY NAME
        SELECT _eid('supplier_upserted', {sup}) AS event_id, 'supplier_upserted' AS event_type,
            _iso(t0) AS event_time, {src} AS source, {sup} AS supplier_id,
            '{m.supplier_lead_time_days}' AS lead_time_days, 'unknown (imported)' AS name,
            t0 AS _t FROM _t0""",
        f"""INSERT INTO _ev BY NAME
        SELECT _eid('location_upserted', {node}) AS event_id, 'location_upserted' AS event_type,
            _iso(t0) AS event_time, {src} AS source, {node} AS node_id,
            {_lit(m.node_type)} AS node_type,
            (SELECT string_agg(c, '|' ORDER BY c) FROM ({channels})) AS channels,
            {_lit(m.node_name or m.node_id)} AS name, t0 AS _t FROM _t0""",
        f"""INSERT INTO _ev BY NAME
        SELECT _eid('channel_upserted', c) AS event_id, 'channel_upserted' AS event_type,
            _iso(t0) AS event_time, {src} AS source, c AS channel_id, _t0.t0 AS _t
        FROM ({channels}), _t0""",
        # one product per SKU an event uses: class 'unknown', list price and description
        # the most frequent seen in the export; cost (docs/importing.md): the
        # quantity-weighted mean of the cost column (known), else the mapping's
        # documented ratio of the list price (assumed), else unknown (0 as a
        # placeholder with cost_basis 'unknown': no margin uses it)
        f"""INSERT INTO _ev BY NAME
        WITH used AS (SELECT DISTINCT sku FROM _ev WHERE sku IS NOT NULL),
        prices AS (
            SELECT sku, arg_max(_p, (n, _p)) AS list_price FROM (
                SELECT sku, _p, count(*) AS n FROM _classified
                WHERE _kind = 'sale' AND _p > 0 GROUP BY ALL) GROUP BY sku),
        names AS (
            SELECT sku, arg_max(description, (n, description)) AS description FROM (
                SELECT sku, description, count(*) AS n FROM _classified
                WHERE _kind IN ('sale', 'return', 'write_off', 'found')
                  AND description IS NOT NULL GROUP BY ALL) GROUP BY sku),
        costs AS (
            SELECT sku, CAST(sum(_c * _q) / sum(_q) AS DECIMAL(18, 4)) AS cost FROM _classified
            WHERE _kind = 'sale' AND _c IS NOT NULL GROUP BY sku),
        valued AS (
            SELECT used.sku, names.description, coalesce(prices.list_price, 0) AS list_price,
                costs.cost,
                CAST(round({ratio} * coalesce(prices.list_price, 0), 4) AS DECIMAL(18, 4))
                    AS assumed
            FROM used LEFT JOIN prices USING (sku) LEFT JOIN names USING (sku)
            LEFT JOIN costs USING (sku))
        SELECT _eid('product_upserted', sku) AS event_id, 'product_upserted' AS event_type,
            _iso(t0) AS event_time, {src} AS source, sku,
            {_lit(m.category)} AS category, 'unknown' AS product_class,
            CAST(coalesce(cost, assumed, 0) AS VARCHAR) AS unit_cost,
            CASE WHEN cost IS NOT NULL THEN 'known' WHEN assumed IS NOT NULL THEN 'assumed'
                 ELSE 'unknown' END AS cost_basis,
            CAST(list_price AS VARCHAR) AS list_price,
            {sup} AS supplier_id, description, 'true' AS returnable,
            _t0.t0 AS _t
        FROM valued, _t0""",
    ]


# -- 5. the whole import -----------------------------------------------------------
def import_orders(
    home: Path, file: Path, mapping: Path, memory_limit: str = "2GB", threads: int = 2
) -> ImportSummary:
    """Import an order-line export into <home>/landing/ (idempotent)."""
    started = time.perf_counter()
    file = Path(file)
    m = load_mapping(mapping) if not isinstance(mapping, OrderMapping) else mapping
    if not file.is_file():
        raise ImportFailed(f"no such file: {file}")
    paths = HomePaths.at(home).ensure()
    domain = load_domain()
    digest = file_digest(file, m.fingerprint)[:12]
    stem = f"import-{m.name}-{digest}"
    summary = ImportSummary("orders", m.name, str(file), cost_note=m.cost_note)
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'; SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = true; SET enable_progress_bar = false")
        try:
            file_cols = _read_input(con, file)
        except duckdb.Error as exc:  # not the format its name says (corrupt, truncated)
            raise ImportFailed(f"cannot read {file}: {str(exc).splitlines()[0]}") from exc
        lower = {c.lower() for c in file_cols}
        absent = [f"{r}={c}" for r, c in m.columns.items() if c.lower() not in lower]
        if absent:
            raise ImportFailed(f"columns of the mapping not in the file: {absent}")
        for stmt in _macros(m):
            con.execute(stmt)
        con.execute(_parse_sql(m, file_cols))
        con.execute(_classify_sql(m))
        _match_returns(con)
        for stmt in _events_sql(m):
            if stmt.startswith("INSERT"):
                _add_missing_columns(con, _insert_columns(con, stmt))
            con.execute(stmt)
        _add_missing_columns(con, ["po_id", "po_line_id", "unit_cost", "reason_code", "note"])
        con.execute(inferred_receipts_sql(m.inferred_source, m.receipt_period))
        for stmt in _master_sql(m):
            if stmt.startswith("INSERT"):
                _add_missing_columns(con, _insert_columns(con, stmt))
            con.execute(stmt)
        _count(con, summary, m)
        write_sources(con, "_ev", domain, paths, stem, summary)
        _write_side_files(con, paths, stem, summary)
    finally:
        con.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _insert_columns(con: duckdb.DuckDBPyConnection, stmt: str) -> list[str]:
    select = stmt.split("BY NAME", 1)[1]
    rel = con.sql(f"SELECT * FROM ({select}) LIMIT 0")
    return list(rel.columns)


def _count(con: duckdb.DuckDBPyConnection, s: ImportSummary, m: OrderMapping) -> None:
    (rejects,) = con.execute("SELECT count(*) FROM _rejects").fetchone()
    kinds = dict(con.execute("SELECT _kind, count(*) FROM _classified GROUP BY 1").fetchall())
    s.rows_read = sum(kinds.values()) + int(rejects)
    s.row_kinds = {k: int(v) for k, v in kinds.items() if k in EVENT_KINDS}
    s.event_rows = sum(s.row_kinds.values())
    s.duplicate_rows = int(kinds.get("duplicate", 0))
    s.non_product = {
        k: int(v)
        for k, v in con.execute(
            "SELECT _np_kind, count(*) FROM _classified WHERE _kind = 'non_product' GROUP BY 1"
        ).fetchall()
    }
    s.non_product_rows = sum(s.non_product.values())
    reasons = dict(
        con.execute(
            "SELECT _reason, count(*) FROM _classified WHERE _kind = 'quarantined' GROUP BY 1"
        ).fetchall()
    )
    if rejects:
        reasons["unreadable_row"] = int(rejects)
    s.quarantine_reasons = {k: int(v) for k, v in reasons.items()}
    s.quarantined = sum(s.quarantine_reasons.values())
    s.events_written = {
        k: int(v)
        for k, v in con.execute("SELECT event_type, count(*) FROM _ev GROUP BY 1").fetchall()
    }
    (s.inferred_events,) = con.execute(
        "SELECT count(*) FROM _ev WHERE source = $s", {"s": m.inferred_source}
    ).fetchone()
    s.matched_returns, s.unmatched_returns = (
        int(x)
        for x in con.execute(
            "SELECT count(x._row), count(*) - count(x._row) FROM _classified c "
            "LEFT JOIN _match x USING (_row) WHERE c._kind = 'return'"
        ).fetchone()
    )
    values = con.execute(
        "SELECT CASE WHEN _kind = 'non_product' THEN 'non_product:' || _np_kind ELSE _kind END, "
        "sum(_q * _p) FROM _classified WHERE _q IS NOT NULL AND _p IS NOT NULL GROUP BY 1"
    ).fetchall()
    s.values = {k: float(v) for k, v in values}
    s.values["all_rows"] = float(sum(v for _, v in values))
    (unmatched_value,) = con.execute(
        "SELECT coalesce(sum(-_q * _p), 0) FROM _classified c LEFT JOIN _match x USING (_row) "
        "WHERE c._kind = 'return' AND x._row IS NULL"
    ).fetchone()
    s.values["unmatched_returns_credit"] = float(unmatched_value)


def _write_side_files(
    con: duckdb.DuckDBPyConnection, paths: HomePaths, stem: str, s: ImportSummary
) -> None:
    """Quarantine (JSON Lines, one row each) and audit (non-product and duplicate rows)."""
    qdir = paths.root / "import_quarantine"
    if s.quarantined:
        qdir.mkdir(parents=True, exist_ok=True)
        dest = qdir / f"{stem}.jsonl"
        rows = con.execute(
            "SELECT c._row, _reason, _detail, to_json(f)::VARCHAR FROM _classified c "
            "JOIN _file f USING (_row) WHERE c._kind = 'quarantined' UNION ALL "
            "SELECT _row, 'unreadable_row', _detail, to_json(_raw)::VARCHAR FROM _rejects "
            "ORDER BY 1"
        ).fetchall()
        tmp = dest.with_name(dest.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for row, reason, detail, record in rows:
                out.write(
                    json.dumps(
                        {
                            "row": row,
                            "reason": reason,
                            "detail": detail,
                            "record": json.loads(record),
                        },
                        sort_keys=True,
                    )
                    + "\n"
                )
        tmp.replace(dest)
        s.quarantine_file = dest.relative_to(paths.root).as_posix()
    if s.non_product_rows or s.duplicate_rows:
        adir = paths.root / "import_audit"
        adir.mkdir(parents=True, exist_ok=True)
        dest = adir / f"{stem}.parquet"
        tmp = dest.with_name(dest.name + ".tmp")
        con.execute(
            "COPY (SELECT c._row AS row, _kind AS kind, _np_kind AS non_product_kind, "
            "CASE WHEN _kind = 'duplicate' THEN _first_row END AS duplicate_of_row, "
            "to_json(f)::VARCHAR AS record FROM _classified c JOIN _file f USING (_row) "
            f"WHERE c._kind IN ('non_product', 'duplicate') ORDER BY c._row) TO '{tmp}' "
            "(FORMAT parquet)"
        )
        tmp.replace(dest)
        s.audit_file = dest.relative_to(paths.root).as_posix()
