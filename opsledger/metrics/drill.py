"""Drill-through: from a KPI value to the fact rows behind it, and from a fact row to its
events in the raw layer (or, for stock facts, to the movements that make it).

Plain Python over the published warehouse (no Streamlit). The fact rows come from the
same row-level select the metrics service aggregates (`models.kpi_sql.rows_select`), with
the same slice conditions, so the rows shown are exactly the rows counted. Every value
travels as a parameter; results are bounded by a row limit and carry the total count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from opsledger.metrics.service import MetricsError, MetricsService, Slice, period_start
from opsledger.models.kpi_sql import Dialect, dimension_sql, open_on, rows_select
from opsledger.models.kpis import GRAINS, Fact, Kpi

DEFAULT_LIMIT = 1000
PARTS = ("all", "numerator", "denominator")
EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "event_time",
    "source",
    "source_file",
    "line_number",
    "batch_id",
    "ingested_at",
)


@dataclass(frozen=True)
class Rows:
    """A bounded result: the first `limit` rows and how many there are in all."""

    frame: pl.DataFrame
    total: int
    limit: int

    @property
    def truncated(self) -> bool:
        return self.total > self.frame.height


def parts(kpi: Kpi) -> tuple[str, ...]:
    """Which row sets a KPI's value has: numerator and denominator rows for a ratio, the
    rows it aggregates otherwise."""
    return ("numerator", "denominator") if kpi.measure.type == "ratio" else ("all",)


def part_label(kpi: Kpi, part: str) -> str:
    m = kpi.measure
    if part == "numerator":
        return f"numerator rows ({m.numerator} <> 0)"
    if part == "denominator":
        return f"denominator rows ({m.denominator} <> 0)"
    if m.type == "count":
        return "counted rows"
    if m.type == "sum":
        return f"rows summed ({m.expr})"
    return f"observations ({m.expr})"


def _part_condition(kpi: Kpi, part: str) -> str | None:
    """'all': every row the value aggregates (the service's fact_rows); a ratio's
    numerator / denominator rows: those that add to it."""
    if part not in PARTS:
        raise MetricsError(f"unknown part {part!r}; parts: {', '.join(PARTS)}")
    if part == "all":
        return None
    if kpi.measure.type != "ratio":
        raise MetricsError(f"{kpi.kpi} is a {kpi.measure.type}: it has no {part}")
    return "coalesce(m_num, 0) <> 0" if part == "numerator" else "coalesce(m_den, 0) <> 0"


def _group_conditions(
    service: MetricsService, kpi: Kpi, s: Slice, group: Mapping[str, Any]
) -> tuple[list[str], dict[str, Any], date | None]:
    """Conditions on the fact rows of one group of a group-by (dimension values and/or a
    period); for snapshot KPIs also the snapshot day the group's value is taken on."""
    conds: list[str] = []
    params: dict[str, Any] = {}
    period = next((g for g in group if g in GRAINS), None)
    for i, (dim, value) in enumerate(sorted((d, v) for d, v in group.items() if d not in GRAINS)):
        if dim not in kpi.dimensions:
            raise MetricsError(f"{kpi.kpi} is not defined by {dim}")
        conds.append(f"{dimension_sql(kpi, dim, Dialect.DUCKDB)} = $g{i}")
        params[f"g{i}"] = str(value)
    day = None
    if kpi.kind == "flow":
        if period:
            conds.append(f"date_trunc('{period}', cast(f.{kpi.time} as date))::date = $g_period")
            params["g_period"] = _as_date(group[period])
    else:
        days = service.snapshot_days(s, period)
        if period:
            start = period_start(_as_date(group[period]), period)
            days = [d for d in days if period_start(d, period) == start]
        day = days[-1] if days else None
    return conds, params, day


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    return date.fromisoformat(str(value)[:10])


def _clean(frame: pl.DataFrame, kpi: Kpi, dims: tuple[str, ...]) -> pl.DataFrame:
    """The fact's own columns under their own names (a dimension alias that shadows a
    fact column is dropped), the measure columns named for what they are."""
    cols = set(frame.columns)
    drop = [d for d in dims if f"{d}_1" in cols]
    frame = frame.drop(drop).rename({f"{d}_1": d for d in drop})
    names = {"m_num": "kpi_numerator", "m_den": "kpi_denominator", "m_value": "kpi_measure"}
    frame = frame.rename({k: v for k, v in names.items() if k in frame.columns})
    if "closed_date" in frame.columns:
        frame = frame.drop("closed_date")
    return frame.drop("_total", strict=False)


def fact_rows(
    con: duckdb.DuckDBPyConnection,
    kpi_name: str,
    s: Slice | None = None,
    group: Mapping[str, Any] | None = None,
    *,
    part: str = "all",
    limit: int = DEFAULT_LIMIT,
    service: MetricsService | None = None,
) -> Rows:
    """The fact rows behind the KPI's value over the slice (one group of a group-by when
    `group` is given, e.g. {"channel": "web"} or {"week": date}); `part` picks the
    numerator or denominator rows of a ratio."""
    service = service or MetricsService(con)
    kpi = service.kpi(kpi_name)
    s = s or Slice()
    group = dict(group or {})
    service.check(kpi, s, tuple(group))
    dims = tuple(dict.fromkeys([*s.active(), *(g for g in group if g not in GRAINS)]))
    conds, params = service.slice_conditions(kpi, s)
    g_conds, g_params, day = _group_conditions(service, kpi, s, group)
    rows = rows_select(
        kpi,
        Dialect.DUCKDB,
        dims,
        conditions=tuple(conds + g_conds),
        fact_columns=True,
    )
    outer: list[str] = []
    params |= g_params
    if kpi.kind != "flow":
        if day is None:
            return Rows(pl.DataFrame(), 0, limit)
        outer.append(open_on("$day") if kpi.kind == "open_items" else "kpi_date = $day")
        params["day"] = day
    cond = _part_condition(kpi, part)
    if cond:
        outer.append(cond)
    where = (" where " + " and ".join(f"({c})" for c in outer)) if outer else ""
    order = ", ".join(f"kpi_rows.{k}" for k in kpi.fact.key)
    sql = (
        f"with kpi_rows as ({rows}) select *, count(*) over () as _total"
        f" from kpi_rows{where} order by kpi_date, {order} limit $limit"
    )
    params["limit"] = int(limit)
    frame = con.execute(sql, params).pl()
    total = int(frame["_total"][0]) if frame.height else 0
    return Rows(_clean(frame, kpi, dims), total, limit)


# ---------------------------------------------------------------------------
# from a fact row to its events


def fact_row_key(fact: Fact, row: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a fact row its events (or movements) are found by."""
    if fact.movements:
        return {col: row.get(col) for col in fact.movements.values()}
    cols = {col for mapping in fact.events.values() for col in mapping.values()}
    return {col: row.get(col) for col in sorted(cols)}


def events(
    con: duckdb.DuckDBPyConnection,
    fact: Fact,
    row: Mapping[str, Any],
    *,
    limit: int = DEFAULT_LIMIT,
) -> Rows:
    """The raw events of one fact row (event id, type, time, source file and line,
    batch), per the fact's `events` mapping in kpis.yml; stock facts: the events of the
    movements that make the row."""
    if fact.movements:
        moves = movements(con, fact, row, limit=limit)
        ids = moves.frame["event_id"].to_list() if moves.frame.height else []
        return events_by_id(con, ids, limit=limit)
    selects: list[str] = []
    params: dict[str, Any] = {}
    for i, (table, mapping) in enumerate(sorted(fact.events.items())):
        conds = []
        for j, (raw_col, fact_col) in enumerate(sorted(mapping.items())):
            value = row.get(fact_col)
            if value is None:
                conds = []
                break
            conds.append(f"{raw_col} = $v{i}_{j}")
            params[f"v{i}_{j}"] = value
        if conds:
            selects.append(_event_select(table) + " where " + " and ".join(conds))
    return _bounded_events(con, selects, params, limit)


def events_by_id(
    con: duckdb.DuckDBPyConnection, event_ids: list[str], *, limit: int = DEFAULT_LIMIT
) -> Rows:
    """Events by id, looked up in every raw event table."""
    if not event_ids:
        return Rows(pl.DataFrame(), 0, limit)
    selects = [
        _event_select(t) + " where list_contains($ids, event_id)" for t in raw_event_tables(con)
    ]
    return _bounded_events(con, selects, {"ids": list(event_ids)}, limit)


def raw_event_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'raw'"
        " and table_name like '%\\_events' escape '\\' and database_name = current_database()"
        " order by 1"
    ).fetchall()
    return [f"raw.{r[0]}" for r in rows]


def _event_select(table: str) -> str:
    cols = ", ".join(EVENT_COLUMNS)
    return f"select '{table}' as raw_table, {cols} from {table}"


def _bounded_events(
    con: duckdb.DuckDBPyConnection, selects: list[str], params: dict[str, Any], limit: int
) -> Rows:
    if not selects:
        return Rows(pl.DataFrame(), 0, limit)
    sql = (
        "with e as (" + " union all ".join(selects) + ")"
        " select *, count(*) over () as _total from e"
        " order by event_time, event_id limit $limit"
    )
    frame = con.execute(sql, params | {"limit": int(limit)}).pl()
    total = int(frame["_total"][0]) if frame.height else 0
    return Rows(frame.drop("_total"), total, limit)


def movements(
    con: duckdb.DuckDBPyConnection,
    fact: Fact,
    row: Mapping[str, Any],
    *,
    limit: int = DEFAULT_LIMIT,
) -> Rows:
    """The stock movements (marts.fct_stock_movements) into and out of the row's SKU x
    node x state up to the row's day, oldest first, with the signed quantity and the
    running balance: the last balance is the row's quantity."""
    if not fact.movements:
        raise MetricsError(f"fact {fact.name} is not a stock fact: it has no movements")
    m = fact.movements
    params = {
        "sku": row.get(m["sku"]),
        "node": row.get(m["node"]),
        "state": row.get(m["state"]),
        "until": row.get(m["until"]) if "until" in m else None,
    }
    until = " and cast(event_time as date) <= $until" if params["until"] is not None else ""
    if not until:
        params.pop("until")
    sql = f"""
        with legs as (
            select *,
                case when to_node = $node and to_state = $state then quantity else 0 end
                - case when from_node = $node and from_state = $state then quantity else 0 end
                    as signed_quantity
            from marts.fct_stock_movements
            where sku = $sku{until}
                and ((to_node = $node and to_state = $state)
                    or (from_node = $node and from_state = $state))
        )
        select event_time, event_type, from_node, from_state, to_node, to_state, quantity,
            signed_quantity,
            sum(signed_quantity) over (order by event_time, sku_seq, movement_id
                rows between unbounded preceding and current row) as balance,
            unit_cost, value, movement_id, event_id, batch_id, count(*) over () as _total
        from legs order by event_time, sku_seq, movement_id
    """
    frame = con.execute(sql, params).pl()
    total = frame.height
    # the newest movements explain the balance best: keep the last `limit`
    frame = frame.tail(limit) if total > limit else frame
    return Rows(frame.drop("_total"), total, limit)
