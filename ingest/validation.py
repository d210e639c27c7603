"""Row validation as set-based DuckDB SQL generated from the domain model.

Two steps, each one statement over a whole batch of files of one source (never
a Python loop per row, nor a statement per file):
1. `check`: `_stage` -> `_checked`: reader problems, event type, required fields,
   types, zones, enums, constraints, reason codes, future times and stock-state
   transitions (states the sender omits are filled from the model's defaults).
   These are permanent reasons.
2. `classify`: `_checked` -> `_classified`: de-duplication by event_id, then
   references to master data (retryable) and the disposition rule per product
   class. Every row ends with `_status` loaded | duplicate | quarantined.
   Duplicates are decided exactly as if the batch's files were loaded one after
   the other in path order: within a file the first valid occurrence wins; ids
   already in raw are duplicates; an id that a row of an earlier file of the
   batch loads is a duplicate in later files.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import duckdb

from opsledger.ingest.reasons import REF_REASONS, Reason
from opsledger.ingest.schema import events_table, q
from opsledger.models.domain import COMMON_FIELDS, Domain

# Which master event and key field defines each kind of reference. (The domain
# model names the ref kinds but not where their keys come from.)
REF_KEYS: dict[str, tuple[str, str]] = {
    "sku": ("product_upserted", "sku"),
    "node": ("location_upserted", "node_id"),
    "channel": ("channel_upserted", "channel_id"),
    "supplier": ("supplier_upserted", "supplier_id"),
}
MASTER = "master"
CYCLE_COUNT = "cycle_count"
# ISO 8601 date-time with a zone ('Z' or an offset); without one it is ambiguous.
TS_WITH_ZONE = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)"
TS_NO_ZONE = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
INT_TEXT = r"\s*[+-]?\d+(\.0*)?\s*"
MORE_THAN_4_DP = r"[+-]?\d*\.\d{4}\d*[1-9]0*"
SEP = "|"  # reason|detail while both travel in one column


def lit(value: str) -> str:
    """A SQL string literal for a value taken from the domain model."""
    return "'" + value.replace("'", "''") + "'"


def lits(values: Iterable[str]) -> str:
    return ", ".join(lit(v) for v in values)


def _show(col: str) -> str:
    return f"left({q(col)}, 60)"


# -- rule tables ------------------------------------------------------------------
def transition_rows(domain: Domain) -> list[tuple[str, str, str, str, str, str]]:
    """(event_type, given_from, given_to, disposition, from_state, to_state).

    One row per way a sender may describe an allowed movement: both states,
    one of them, or none (the default; for dispositions, the disposition's).
    '' stands for "omitted". A partial description that fits several
    transitions without a default among them is ambiguous and left out.
    """
    rows: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    types = sorted({t.event_type for t in domain.transitions} - {CYCLE_COUNT})
    for et in types:
        trans = domain.transitions_for(et)
        for t in trans:
            disp = t.disposition or ""
            rows[(et, t.from_state, t.to_state, disp)] = (t.from_state, t.to_state)
        keys: set[tuple[str, str, str]] = set()
        for t in trans:
            disp = t.disposition or ""
            keys |= {(t.from_state, "", disp), ("", t.to_state, disp), ("", "", disp)}
        for gf, gt, disp in keys:
            fits = [
                t
                for t in trans
                if (t.disposition or "") == disp
                and gf in ("", t.from_state)
                and gt in ("", t.to_state)
            ]
            chosen = next((t for t in fits if t.default), fits[0] if len(fits) == 1 else None)
            if chosen is not None:
                rows[(et, gf, gt, disp)] = (chosen.from_state, chosen.to_state)
    return [(*k, *v) for k, v in sorted(rows.items())]


def setup_rules(con: duckdb.DuckDBPyConnection, domain: Domain) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _transitions (event_type VARCHAR, given_from VARCHAR, "
        "given_to VARCHAR, disposition VARCHAR, from_state VARCHAR, to_state VARCHAR)"
    )
    con.executemany("INSERT INTO _transitions VALUES (?, ?, ?, ?, ?, ?)", transition_rows(domain))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _allowed_disp (product_class VARCHAR, disposition VARCHAR)"
    )
    con.executemany(
        "INSERT INTO _allowed_disp VALUES (?, ?)",
        [(pc, d) for pc in domain.product_classes for d in domain.allowed_dispositions(pc)],
    )


def cycle_directions(domain: Domain) -> tuple[tuple[str, str], tuple[str, str]]:
    """(from, to) for a count above the system quantity, and for one below it."""
    trans = domain.transitions_for(CYCLE_COUNT)
    up = next(t for t in trans if t.from_state == "adjustment")
    down = next(t for t in trans if t.to_state == "adjustment")
    return (up.from_state, up.to_state), (down.from_state, down.to_state)


# -- step 1: permanent checks ---------------------------------------------------------
def _case(branches: list[tuple[str, str]]) -> str:
    """CASE producing 'reason|detail' for the first failing check."""
    return "CASE " + " ".join(f"WHEN {c} THEN {v}" for c, v in branches) + " END"


def _rd(reason: Reason, detail_sql: str) -> str:
    return f"'{reason.value}{SEP}' || coalesce({detail_sql}, '')"


def permanent_checks(domain: Domain, source: str) -> list[tuple[str, str]]:
    fields = domain.source_fields(source)
    types = [domain.event_types[t] for t in domain.sources[source].event_types]
    b: list[tuple[str, str]] = [
        ("_reason IS NOT NULL", f"_reason || '{SEP}' || coalesce(_detail, '')"),
        ("event_type IS NULL", _rd(Reason.MISSING_REQUIRED, "'event_type'")),
        (
            f"event_type NOT IN ({lits(t.name for t in types)})",
            _rd(Reason.UNKNOWN_EVENT_TYPE, "'event_type=' || " + _show("event_type")),
        ),
    ]
    # write-back provenance: only the export's own files (a reserved folder) may set it
    reserved = [f for f in domain.raw["writeback"]["reserved_fields"] if f in fields]
    if reserved:
        folder = f"{source}/{domain.raw['writeback']['reserved_folder']}/"
        b.append(
            (
                f"({' OR '.join(f'{q(f)} IS NOT NULL' for f in reserved)}) "
                f"AND NOT starts_with(coalesce(_file, ''), {lit(folder)})",
                _rd(
                    Reason.RESERVED_FIELD,
                    "concat_ws(', ', "
                    + ", ".join(f"CASE WHEN {q(f)} IS NOT NULL THEN '{f}' END" for f in reserved)
                    + ")",
                ),
            )
        )
    # required fields
    for f in fields:
        if f == "event_type":
            continue
        needs = [t.name for t in types if f in t.required or f in COMMON_FIELDS]
        if not needs:
            continue
        cond = f"{q(f)} IS NULL"
        if len(needs) < len(types):
            cond += f" AND event_type IN ({lits(needs)})"
        b.append((cond, _rd(Reason.MISSING_REQUIRED, lit(f))))
    # types (every present value, whichever event type)
    for f in fields:
        spec = domain.fields[f]
        col = q(f)
        shown = f"'{f}=' || {_show(f)}"
        if spec.type == "timestamp":
            b.append(
                (
                    f"{col} IS NOT NULL AND NOT regexp_full_match({col}, '{TS_WITH_ZONE}') "
                    f"AND regexp_full_match({col}, '{TS_NO_ZONE}')",
                    _rd(Reason.TIMESTAMP_WITHOUT_ZONE, shown),
                )
            )
            valid = f"regexp_full_match({col}, '{TS_WITH_ZONE}') AND try_cast({col} AS TIMESTAMPTZ) IS NOT NULL"
        elif spec.type == "int":
            valid = (
                f"regexp_full_match({col}, '{INT_TEXT}') AND try_cast({col} AS BIGINT) IS NOT NULL"
            )
        elif spec.type == "bool":
            # the contract's booleans are true / false (any case), not yes/no, 1/0, t/f
            valid = f"lower(trim({col})) IN ('true', 'false')"
        elif spec.type in ("decimal", "date"):
            valid = f"try_cast({col} AS {spec.sql_type}) IS NOT NULL"
        else:
            continue
        b.append((f"{col} IS NOT NULL AND NOT ({valid})", _rd(Reason.INVALID_TYPE, shown)))
        if spec.type == "decimal":
            # more than 4 decimal places (beyond trailing zeros) would be rounded by the cast
            b.append(
                (
                    f"{col} IS NOT NULL AND regexp_full_match(trim({col}), '{MORE_THAN_4_DP}')",
                    _rd(Reason.TOO_MANY_DECIMALS, shown),
                )
            )
    # enums
    for f in fields:
        spec = domain.fields[f]
        if spec.enum:
            b.append(
                (
                    f"{q(f)} IS NOT NULL AND {q(f)} NOT IN ({lits(domain.enum_values(spec.enum))})",
                    _rd(Reason.INVALID_ENUM, f"'{f}=' || {_show(f)}"),
                )
            )
    # constraints
    for f in fields:
        spec = domain.fields[f]
        cast = f"try_cast({q(f)} AS {spec.sql_type})"
        if spec.constraint == "positive":
            b.append((f"{cast} <= 0", _rd(Reason.NOT_POSITIVE, f"'{f}=' || {_show(f)}")))
        elif spec.constraint == "non_negative":
            b.append((f"{cast} < 0", _rd(Reason.NEGATIVE, f"'{f}=' || {_show(f)}")))
        bound = domain.max_value(f)
        if bound is not None:
            b.append(
                (
                    f"{cast} > {bound}",
                    _rd(Reason.OUT_OF_RANGE, f"'{f}=' || {_show(f)} || ' > {bound}'"),
                )
            )
    # reason codes, per event type's kind
    if "reason_code" in fields:
        for t in types:
            if t.reason_code_kind:
                b.append(
                    (
                        f"event_type = {lit(t.name)} AND reason_code IS NOT NULL AND reason_code "
                        f"NOT IN ({lits(domain.reason_codes(t.reason_code_kind))})",
                        _rd(
                            Reason.UNKNOWN_REASON_CODE,
                            f"'{t.reason_code_kind}: ' || {_show('reason_code')}",
                        ),
                    )
                )
    # event_time in the future (the bound is a parameter: now + tolerance)
    b.append(
        (
            "try_cast(event_time AS TIMESTAMPTZ) > {future_limit}",
            _rd(Reason.FUTURE_TIMESTAMP, "'event_time=' || " + _show("event_time")),
        )
    )
    # stock-state transitions
    moving = [t.name for t in types if t.moves and t.name != CYCLE_COUNT]
    if moving:
        shown = "coalesce(from_state, '(default)') || ' -> ' || coalesce(to_state, '(default)')"
        if "disposition" in fields:
            shown += " || coalesce(' for ' || disposition, '')"
        b.append(
            (
                f"event_type IN ({lits(moving)}) AND _tf IS NULL",
                _rd(Reason.INVALID_TRANSITION, shown),
            )
        )
    if any(t.name == CYCLE_COUNT for t in types):
        b.append(
            (
                f"event_type = '{CYCLE_COUNT}' AND ((from_state IS NOT NULL AND from_state "
                "IS DISTINCT FROM _cf) OR (to_state IS NOT NULL AND to_state IS DISTINCT FROM _ct))",
                _rd(
                    Reason.INVALID_TRANSITION,
                    "'counted - system gives ' || coalesce(_cf || ' -> ' || _ct, 'no movement')"
                    " || ', sent ' || coalesce(from_state, '?') || ' -> ' || coalesce(to_state, '?')",
                ),
            )
        )
    return b


def check_sql(domain: Domain, source: str, stage: str = "_stage") -> str:
    """SELECT of the checked rows of `stage` (placeholder {future_limit})."""
    fields = domain.source_fields(source)
    types = domain.sources[source].event_types
    moves = "from_state" in fields
    has_cycle = CYCLE_COUNT in types
    disp_types = sorted({t.event_type for t in domain.transitions if t.disposition})
    join = ""
    tcols = "NULL::VARCHAR AS _tf, NULL::VARCHAR AS _tt"
    if moves:
        disp_key = "''"
        if "disposition" in fields and disp_types:
            disp_key = (
                f"CASE WHEN s.event_type IN ({lits(disp_types)}) "
                "THEN coalesce(s.disposition, '') ELSE '' END"
            )
        join = (
            "LEFT JOIN _transitions t ON t.event_type = s.event_type "
            "AND t.given_from = coalesce(s.from_state, '') "
            f"AND t.given_to = coalesce(s.to_state, '') AND t.disposition = {disp_key}"
        )
        tcols = "t.from_state AS _tf, t.to_state AS _tt"
    ccols = "NULL::VARCHAR AS _cf, NULL::VARCHAR AS _ct, NULL::BIGINT AS _cq"
    if has_cycle:
        (uf, ut), (df, dt) = cycle_directions(domain)
        diff = "(try_cast(s.counted_qty AS BIGINT) - try_cast(s.system_qty AS BIGINT))"
        ccols = (
            f"CASE WHEN s.event_type = '{CYCLE_COUNT}' THEN CASE WHEN {diff} > 0 THEN {lit(uf)} "
            f"WHEN {diff} < 0 THEN {lit(df)} END END AS _cf, "
            f"CASE WHEN s.event_type = '{CYCLE_COUNT}' THEN CASE WHEN {diff} > 0 THEN {lit(ut)} "
            f"WHEN {diff} < 0 THEN {lit(dt)} END END AS _ct, "
            f"CASE WHEN s.event_type = '{CYCLE_COUNT}' THEN nullif(abs({diff}), 0) END AS _cq"
        )
    qty = "NULL::BIGINT"
    if "quantity" in fields:
        qty = "try_cast(quantity AS BIGINT)"
        if has_cycle:
            qty = f"CASE WHEN event_type = '{CYCLE_COUNT}' THEN _cq ELSE {qty} END"
    states = "NULL::VARCHAR AS _from, NULL::VARCHAR AS _to"
    if moves:
        states = (
            f"CASE WHEN event_type = '{CYCLE_COUNT}' THEN _cf ELSE _tf END AS _from, "
            f"CASE WHEN event_type = '{CYCLE_COUNT}' THEN _ct ELSE _tt END AS _to"
        )
    rd = _case(permanent_checks(domain, source))
    return (
        f"SELECT * EXCLUDE (_rd, _tf, _tt, _cf, _ct, _cq), {qty} AS _qty, {states}, "
        f"split_part(_rd, '{SEP}', 1) AS _reason, "
        f"nullif(_rd[strpos(_rd, '{SEP}') + 1:], '') AS _detail "
        f"FROM (SELECT * EXCLUDE (_reason, _detail), {rd} AS _rd "
        f"FROM (SELECT s.*, {tcols}, {ccols} FROM {stage} s {join}))"
    )


def check(con: duckdb.DuckDBPyConnection, domain: Domain, source: str, now: datetime) -> None:
    """The view `_checked` over `_stage`: evaluated where it is read (by classify),
    so the checked rows are never materialized as another wide copy."""
    tolerance = timedelta(minutes=float(domain.thresholds["future_tolerance_minutes"]))
    limit = f"'{(now + tolerance).isoformat()}'::TIMESTAMPTZ"
    select = check_sql(domain, source).replace("{future_limit}", limit)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _checked AS {select}")
    # the rows whose event_id occurs more than once (few): checked once, kept
    select = check_sql(
        domain,
        source,
        "(SELECT * FROM _stage WHERE event_id IN (SELECT event_id FROM _stage "
        "WHERE event_id IS NOT NULL GROUP BY event_id HAVING count(*) > 1))",
    ).replace("{future_limit}", limit)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _checked_multi AS {select}")


# -- step 2: duplicates and references ------------------------------------------------------
def build_refs(con: duckdb.DuckDBPyConnection, with_current: bool) -> None:
    """Master keys known so far: raw.master_events (+ the valid rows of this master file)."""
    for kind, (etype, key) in REF_KEYS.items():
        sql = f"SELECT {q(key)} AS key FROM {events_table(MASTER)} WHERE event_type = {lit(etype)}"
        if with_current:
            sql += (
                f" UNION SELECT {q(key)} FROM _checked "
                f"WHERE _reason IS NULL AND event_type = {lit(etype)}"
            )
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ref_{kind} AS SELECT DISTINCT key FROM ({sql})")
    # disposition rule: the latest product class of each SKU
    classes = (
        f"SELECT sku, product_class, event_time, 0 AS o FROM {events_table(MASTER)} "
        "WHERE event_type = 'product_upserted'"
    )
    if with_current:
        classes += (
            " UNION ALL SELECT sku, product_class, try_cast(event_time AS TIMESTAMPTZ), 1 "
            "FROM _checked WHERE _reason IS NULL AND event_type = 'product_upserted'"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sku_disp AS SELECT c.sku || chr(31) || a.disposition AS key "
        f"FROM (SELECT sku, arg_max(product_class, (event_time, o)) AS product_class "
        f"FROM ({classes}) GROUP BY sku) c JOIN _allowed_disp a USING (product_class)"
    )


def ref_checks(domain: Domain, source: str) -> list[tuple[str, str]]:
    fields = domain.source_fields(source)
    b: list[tuple[str, str]] = []
    for f in fields:
        kind = domain.fields[f].ref
        if kind:
            b.append(
                (
                    f"{q(f)} IS NOT NULL AND {q(f)} NOT IN (SELECT key FROM _ref_{kind})",
                    _rd(REF_REASONS[kind], f"'{f}=' || {_show(f)}"),
                )
            )
    if "disposition" in fields and "sku" in fields:
        b.append(
            (
                "event_type = 'disposition_decided' AND sku || chr(31) || disposition "
                "NOT IN (SELECT key FROM _sku_disp)",
                _rd(Reason.DISPOSITION_NOT_ALLOWED, "'disposition=' || disposition"),
            )
        )
    return b


def classify(
    con: duckdb.DuckDBPyConnection, domain: Domain, source: str, refs_ready: bool = False
) -> None:
    """`_checked` -> `_classified` with _status, _reason, _detail, _retry.

    refs_ready: the `_ref_*` tables are current (master data unchanged since
    they were built), so a run of many small files builds them once.
    """
    if source == MASTER or not refs_ready:
        build_refs(con, with_current=source == MASTER)
    # a revoked event delivered again is a duplicate of the revoked one, never reloaded
    raw_ids = (
        f"SELECT event_id FROM {events_table(source)} "
        "UNION ALL SELECT event_id FROM raw.revocations"
    )
    # event_ids with more than one valid row in the batch (normally few): the
    # first valid row of each file that holds them
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _multi AS SELECT event_id, _file, min(_ln) AS first_ln "
        "FROM _checked_multi WHERE _reason IS NULL AND event_id IN (SELECT event_id "
        "FROM _checked_multi WHERE _reason IS NULL GROUP BY event_id HAVING count(*) > 1) "
        "GROUP BY ALL"
    )
    checks = ref_checks(domain, source)
    ref_rd = _case(checks) if checks else "NULL::VARCHAR"
    # across files, the earliest file whose row would load wins (as if the files
    # were loaded one after the other): later files' rows are duplicates
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _win AS SELECT c.event_id, min(c._ln) AS win_ln "
        "FROM _checked_multi c JOIN _multi m ON m.event_id = c.event_id AND m._file = c._file "
        f"AND m.first_ln = c._ln WHERE c.event_id NOT IN ({raw_ids}) AND ({ref_rd}) IS NULL "
        "GROUP BY 1"
    )
    retry = lits(r.value for r in REF_REASONS.values())
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _classified AS "
        "SELECT * EXCLUDE (_reason, _detail, _refrd, _dup, _raw), "
        # the line as delivered is kept for quarantined rows only
        "CASE WHEN _reason IS NOT NULL OR (NOT _dup AND _refrd IS NOT NULL) THEN _raw END AS _raw, "
        "CASE WHEN _reason IS NOT NULL THEN 'quarantined' WHEN _dup THEN 'duplicate' "
        "WHEN _refrd IS NOT NULL THEN 'quarantined' ELSE 'loaded' END AS _status, "
        f"CASE WHEN _reason IS NOT NULL THEN _reason WHEN NOT _dup "
        f"THEN split_part(_refrd, '{SEP}', 1) END AS _reason, "
        f"CASE WHEN _reason IS NOT NULL THEN _detail WHEN NOT _dup "
        f"THEN nullif(_refrd[strpos(_refrd, '{SEP}') + 1:], '') END AS _detail, "
        f"coalesce(_reason IS NULL AND NOT _dup AND split_part(_refrd, '{SEP}', 1) "
        f"IN ({retry}), false) AS _retry "
        "FROM (SELECT c.*, "
        "CASE WHEN c._reason IS NOT NULL THEN false "
        "WHEN m.first_ln IS NOT NULL AND (c._ln <> m.first_ln OR w.win_ln < c._ln) THEN true "
        f"ELSE c.event_id IN ({raw_ids}) END AS _dup, "
        f"CASE WHEN c._reason IS NULL THEN {ref_rd} END AS _refrd "
        "FROM _checked c LEFT JOIN _multi m ON m.event_id = c.event_id AND m._file = c._file "
        "LEFT JOIN _win w ON w.event_id = m.event_id)"
    )
    mark_conflicts(con, domain, source)


def mark_conflicts(con: duckdb.DuckDBPyConnection, domain: Domain, source: str) -> None:
    """A duplicate whose payload differs from the event kept (the loaded one in raw, or
    this batch's winner) is a conflict, not a silent duplicate: quarantined as
    conflicting_duplicate, naming the fields that differ; the first one stays."""
    from opsledger.ingest.loader import _typed

    fields = [f for f in domain.source_fields(source) if f != "event_id"]
    if not con.execute("SELECT count(*) FROM _classified WHERE _status = 'duplicate'").fetchone()[
        0
    ]:
        return
    cols = ", ".join(q(f) for f in fields)
    typed = ", ".join(f"{_typed(domain, f)} AS {q(f)}" for f in fields)
    diff = ", ".join(
        f"CASE WHEN d.{q(f)} IS DISTINCT FROM r.{q(f)} THEN {lit(f)} END" for f in fields
    )
    dups = "SELECT event_id FROM _classified WHERE _status = 'duplicate'"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _conflicts AS WITH "
        f"ref AS (SELECT event_id, {cols} FROM {events_table(source)} WHERE event_id IN ({dups}) "
        f"UNION ALL SELECT event_id, {typed} FROM _classified WHERE _status = 'loaded' "
        f"AND event_id IN ({dups})), "
        f"d AS (SELECT _ln, event_id, {typed} FROM _classified WHERE _status = 'duplicate') "
        f"SELECT d._ln, concat_ws(', ', {diff}) AS diff FROM d JOIN ref r USING (event_id)"
    )
    con.execute(
        "UPDATE _classified SET _status = 'quarantined', "
        f"_reason = '{Reason.CONFLICTING_DUPLICATE.value}', "
        "_detail = 'differs from the event kept in: ' || k.diff, _retry = false "
        "FROM _conflicts k WHERE _classified._ln = k._ln AND k.diff <> ''"
    )
    con.execute("DROP TABLE IF EXISTS _conflicts")


def drop_work(con: duckdb.DuckDBPyConnection) -> None:
    """Drop a batch's working tables (the `_ref_*` tables are kept for the next batch)."""
    con.execute(
        "DROP VIEW IF EXISTS _checked; DROP TABLE IF EXISTS _stage; "
        "DROP TABLE IF EXISTS _checked_multi; DROP TABLE IF EXISTS _multi; "
        "DROP TABLE IF EXISTS _win; DROP TABLE IF EXISTS _classified"
    )
