"""The `opsledger kpi` command: read the published warehouse, print a KPI report."""

from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.table import Table

from opsledger.core.paths import HomePaths
from opsledger.core.readonly import connect_read_only
from opsledger.exit_codes import CommandError, ExitCode, emit_json
from opsledger.metrics.format import format_value
from opsledger.metrics.report import KpiRequest, kpi_catalog, kpi_report, parse_by
from opsledger.metrics.service import MetricsError, MetricsService


def _usage(message: str) -> CommandError:
    """A request the catalog or the data does not know (a KPI, dimension or filter
    value): the command line is wrong, exit 2 like click's own bad values."""
    return CommandError(ExitCode.USAGE, message)


def run_kpi_command(
    paths: HomePaths,
    name: str | None,
    start: date | None,
    end: date | None,
    filters: dict[str, tuple[str, ...]],
    by: list[str],
    *,
    list_kpis: bool,
    as_json: bool,
    console: Console,
) -> None:
    if not paths.warehouse.exists():
        raise CommandError(
            ExitCode.BAD_INPUT, f"nothing published at {paths.warehouse}: run `opsledger refresh`"
        )
    con = connect_read_only(paths.warehouse)
    try:
        service = MetricsService(con)
        if list_kpis:
            rows = kpi_catalog(service)
            if as_json:
                emit_json({"kpis": rows})
            else:
                table = Table("kpi", "name", "unit", "kind", "fact", "dimensions")
                for r in rows:
                    table.add_row(
                        r["kpi"],
                        r["name"],
                        r["unit"],
                        r["kind"],
                        r["fact"],
                        ", ".join(r["dimensions"]),
                    )
                console.print(table)
            return
        if not name:
            raise _usage("name a KPI, or use --list")
        try:
            report = kpi_report(service, KpiRequest(name, start, end, filters, parse_by(by)))
        except MetricsError as exc:
            raise _usage(str(exc)) from exc
    finally:
        con.close()
    if as_json:
        emit_json(report)
        return
    _print_report(report, console)


def _print_report(report: dict, console: Console) -> None:
    s = report["slice"]
    console.print(f"[bold]{report['name']}[/bold] ({report['kpi']}): {report['definition']}")
    scope = f"{s['from'] or s['data_from']} .. {s['to'] or s['data_to']}"
    if s["filters"]:
        scope += "; " + "; ".join(f"{d} in {', '.join(v)}" for d, v in s["filters"].items())
    console.print(f"slice: {scope}   fact: {report['fact']}")
    groups = s["by"]
    table = Table(*groups, "value", "numerator", "denominator", "fact rows")
    for v in report["values"]:
        table.add_row(
            *(str(v["group"][g]) for g in groups),
            format_value(v["value"], report["unit"], report["currency"]),
            _number(v["numerator"]),
            _number(v["denominator"]),
            f"{v['fact_rows']:,}",
        )
    console.print(table)


def _number(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"
