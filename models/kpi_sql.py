"""Compile a governed KPI (models/kpis.yml) into SQL: once, for two targets.

- `Dialect.DBT` renders the dbt model behind `marts.kpi_daily` (refs and
  dispatched macros, so the project stays portable);
- `Dialect.DUCKDB` renders the metrics service's queries over the published
  marts, for any date range, filters and group-by.

Both start from the same row-level select (`rows_select`): the fact's rows that
the KPI counts, dated by its time column, with its dimensions and measure
columns. Only aggregation differs, and only in the spelling of a percentile,
so a one-day range of the service gives exactly kpi_daily's value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from opsledger.models.domain import load_domain
from opsledger.models.kpis import SKU_DIMENSIONS, Kpi


class Dialect(enum.Enum):
    DBT = "dbt"
    DUCKDB = "duckdb"


def relation(model: str, dialect: Dialect) -> str:
    return "{{ ref('" + model + "') }}" if dialect is Dialect.DBT else f"marts.{model}"


def as_of_date_sql(dialect: Dialect) -> str:
    return f"(select as_of_date from {relation('kpi_as_of', dialect)})"


def blocked_states_sql() -> str:
    states = load_domain().raw["states"]["internal"]
    return ", ".join(f"'{name}'" for name, spec in states.items() if spec["blocked"])


def kpi_where(kpi: Kpi, dialect: Dialect, as_of: date | None = None) -> str | None:
    """The KPI's own condition; `as_of` (the service reads marts.kpi_as_of once) is
    written as a date literal, which DuckDB can push into the scan, unlike the
    scalar subquery."""
    if not kpi.where:
        return None
    as_of_sql = f"date '{as_of.isoformat()}'" if as_of else as_of_date_sql(dialect)
    return kpi.where.format(as_of_date=as_of_sql, blocked_states=blocked_states_sql())


def string_type(dialect: Dialect) -> str:
    return "{{ dbt.type_string() }}" if dialect is Dialect.DBT else "varchar"


def dimension_sql(kpi: Kpi, dimension: str, dialect: Dialect) -> str:
    """The dimension's value of a fact row: 'unknown' when missing, as in kpi_daily."""
    alias, column = kpi.column_for(dimension)
    if alias == "s":
        column = f"sku_{column}"
    return f"coalesce(cast({alias}.{column} as {string_type(dialect)}), 'unknown')"


def sku_join(kpi: Kpi, dialect: Dialect) -> str:
    """dim_sku's dimensions under prefixed names, so that the unqualified fact columns
    of a measure or a where clause stay unambiguous."""
    cols = ", ".join(f"{c} as sku_{c}" for c in SKU_DIMENSIONS.values())
    return (
        f" left join (select sku as sku_key, {cols} from {relation('dim_sku', dialect)}) as s"
        f" on f.{kpi.fact.sku} = s.sku_key"
    )


def needs_sku_join(kpi: Kpi, dimensions: tuple[str, ...]) -> bool:
    return any(kpi.column_for(d)[0] == "s" for d in dimensions)


@dataclass(frozen=True)
class MeasureColumns:
    """SQL of the measure's per-row columns (select list) and its aggregates."""

    columns: tuple[tuple[str, str], ...]  # (alias, expression over f.*)
    value: str
    numerator: str
    denominator: str


def _expr(sql: str) -> str:
    """A measure expression of kpis.yml names the fact's columns unqualified."""
    return f"({sql})"


def measure_columns(kpi: Kpi, dialect: Dialect) -> MeasureColumns:
    m = kpi.measure
    divisor = f" / {float(m.divisor)!r}" if m.divisor else ""
    if m.type == "ratio":
        return MeasureColumns(
            columns=(("m_num", _expr(m.numerator)), ("m_den", _expr(m.denominator))),
            value="case when sum(m_den) > 0"
            " then cast(sum(m_num) as double) / cast(sum(m_den) as double) end",
            numerator="cast(sum(m_num) as double)",
            denominator="cast(sum(m_den) as double)",
        )
    if m.type == "count":
        return MeasureColumns((), "cast(count(*) as double)", "cast(count(*) as double)", "null")
    cols = (("m_value", _expr(m.expr)),)
    if m.type == "sum":
        total = "cast(coalesce(sum(m_value), 0) as double)"
        if m.known_only:  # rows exist but none is known: undefined, never 0
            total = f"case when count(m_value) > 0 or count(*) = 0 then {total} end"
        return MeasureColumns(cols, total + divisor, total + divisor, "null")
    observations = "cast(count(m_value) as double)"
    if m.type == "quantile":
        value = (
            "{{ percentile_cont_agg('m_value', " + repr(m.p) + ") }}"
            if dialect is Dialect.DBT
            else f"quantile_cont(m_value, {m.p!r})"
        )
        return MeasureColumns(cols, f"cast({value} as double){divisor}", "null", observations)
    if m.type == "mean":
        return MeasureColumns(
            cols,
            f"cast(sum(m_value) as double) / nullif({observations}, 0){divisor}",
            f"cast(sum(m_value) as double){divisor}",
            observations,
        )
    # stdev from exact integer sums: the same figure whatever order rows are added in
    n = "count(m_value)"
    value = (
        f"case when {n} > 1 then sqrt(cast({n} * sum(m_value * m_value)"
        f" - sum(m_value) * sum(m_value) as double) / ({n} * ({n} - 1.0))){divisor} end"
    )
    return MeasureColumns(cols, value, "null", observations)


def rows_select(
    kpi: Kpi,
    dialect: Dialect,
    dimensions: tuple[str, ...],
    *,
    conditions: tuple[str, ...] = (),
    fact_columns: bool = False,
    as_of: date | None = None,
) -> str:
    """The KPI's fact rows: kpi_date (and closed_date for open items), one column per
    dimension (named like it), the measure columns; `conditions` are extra filters
    over the same aliases (f = fact, s = dim_sku)."""
    measure = measure_columns(kpi, dialect)
    select = [f"cast(f.{kpi.time} as date) as kpi_date"]
    if kpi.kind == "open_items":
        select.append(f"cast(f.{kpi.closed} as date) as closed_date")
    select += [f"{dimension_sql(kpi, d, dialect)} as {d}" for d in dimensions]
    select += [f"{expr} as {alias}" for alias, expr in measure.columns]
    if fact_columns:
        select.append("f.*")
    sql = f"select {', '.join(select)} from {relation(kpi.fact.model, dialect)} as f"
    if kpi.fact.sku and needs_sku_join(kpi, dimensions):
        sql += sku_join(kpi, dialect)
    where = [w for w in (kpi_where(kpi, dialect, as_of), *conditions) if w]
    if where:
        sql += " where " + " and ".join(f"({w})" for w in where)
    return sql


def open_on(day_sql: str) -> str:
    """An open item (rows of an open_items KPI) is open at the end of the day."""
    return f"kpi_date <= {day_sql} and (closed_date is null or closed_date > {day_sql})"


# ---------------------------------------------------------------------------
# dbt: the model behind kpi_daily


def _dbt_kpi_ctes(kpi: Kpi) -> tuple[list[str], str]:
    """CTEs of one KPI and the name of the relation kpi_rollup groups by day."""
    rows = f"{kpi.kpi}__rows"
    ctes = [f"{rows} as (\n    {rows_select(kpi, Dialect.DBT, kpi.dimensions)}\n)"]
    if kpi.kind != "open_items":
        return ctes, rows
    dims = "".join(f", {rows}.{d}" for d in kpi.dimensions)
    ctes += [
        f"{kpi.kpi}__bounds as (\n    select min(kpi_date) as first_date,"
        f" max({as_of_date_sql(Dialect.DBT)}) as last_date from {rows}\n)",
        f"{kpi.kpi}__calendar as (\n    {{{{ calendar_days('{kpi.kpi}__bounds') }}}}\n)",
        f"{kpi.kpi}__days as (\n    select {kpi.kpi}__calendar.date_day as kpi_date{dims}"
        f"\n    from {kpi.kpi}__calendar\n    inner join {rows}"
        f"\n        on {rows}.kpi_date <= {kpi.kpi}__calendar.date_day"
        f"\n        and ({rows}.closed_date is null"
        f" or {rows}.closed_date > {kpi.kpi}__calendar.date_day)\n)",
    ]
    return ctes, f"{kpi.kpi}__days"


def _dbt_rollup(kpi: Kpi, relation_name: str) -> str:
    m = measure_columns(kpi, Dialect.DBT)

    def arg(sql: str) -> str:
        return "none" if sql == "null" else '"' + sql.replace('"', '\\"') + '"'

    dims = "[" + ", ".join(f"'{d}'" for d in kpi.dimensions) + "]"
    return (
        f"{{{{ kpi_rollup('{relation_name}', '{kpi.kpi}', {dims}, 'kpi_date',\n"
        f"    {arg(m.numerator)}, {arg(m.denominator)},\n"
        f"    value={_jinja_value(m.value)}, aggregation='{kpi.aggregation}') }}}}"
    )


def _jinja_value(templated: str) -> str:
    """kpi_rollup's value argument: a string, or a macro call concatenated in jinja."""
    if "{{" not in templated:
        return '"' + templated + '"'
    before, rest = templated.split("{{ ", 1)
    call, after = rest.split(" }}", 1)
    return f'"{before}" ~ {call} ~ "{after}"'


def dbt_kpis_model(kpis: list[Kpi]) -> str:
    """SQL of the dbt model that computes every KPI per day and dimension."""
    ctes: list[str] = []
    branches: list[str] = []
    for kpi in kpis:
        kpi_ctes, rel = _dbt_kpi_ctes(kpi)
        ctes += kpi_ctes
        branches.append(_dbt_rollup(kpi, rel))
    header = (
        "{#- GENERATED by `opsledger model export` from models/kpis.yml through\n"
        "    models/kpi_sql.py: do not edit. Every governed KPI per day and\n"
        "    dimension, from the same row-level selects the metrics service runs\n"
        "    for any slice (opsledger/metrics). -#}\n"
    )
    return (
        header
        + "with\n\n"
        + ",\n\n".join(ctes)
        + "\n\n"
        + "\n\nunion all\n\n".join(branches)
        + "\n"
    )
