"""Files generated from models/kpis.yml: the dbt model behind kpi_daily, the dbt
semantic layer's view of the same definitions, and docs/kpis.md.

Generated, never edited: `opsledger model export` writes them and `opsledger
model check` (run by the tests) fails when one is out of date.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from opsledger.models.kpi_semantic import render_semantic_yaml
from opsledger.models.kpi_sql import dbt_kpis_model
from opsledger.models.kpis import Catalog, load_catalog

ROOT = Path(__file__).resolve().parent.parent
KPI_MODEL = ROOT / "dbt" / "models" / "intermediate" / "kpis" / "int_kpis_daily_computed.sql"
SEMANTIC_YAML = ROOT / "dbt" / "models" / "marts" / "kpis" / "_kpis__semantic_models.yml"
KPI_DOCS = ROOT / "docs" / "kpis.md"

MEASURE_TEXT = {
    "ratio": "sum({numerator}) / sum({denominator}); undefined when the denominator is <= 0",
    "sum": "sum({expr})",
    "count": "number of rows",
    "quantile": "percentile {p} (continuous) of {expr} over the fact rows",
    "mean": "mean of {expr}",
    "stdev": "sample standard deviation of {expr}",
}
KIND_TEXT = {
    "flow": "flow: the rows dated in the range",
    "snapshot": "snapshot: the rows of the range's last day",
    "open_items": "snapshot: the rows open at the end of the range's last day",
    "current": "snapshot as of the data's last day only (no history)",
}


def render_docs(cat: Catalog) -> str:
    lines = [
        "# KPI definitions",
        "",
        "Generated from [models/kpis.yml](../models/kpis.yml) by `opsledger model export`;"
        " do not edit. One definition per KPI: `kpi_daily`, the app and `opsledger kpi`"
        " all compute it from these fact rows (see [architecture](architecture.md)).",
        "",
        "Over a date range and any slice: ratios are sum(numerator) / sum(denominator) of"
        " the slice's rows; medians and percentiles come from the slice's fact rows;"
        " snapshots are the value at the end of the range's last day (or the data's last"
        " day when the range ends later).",
        "",
        "| KPI | definition | fact (grain) | dated by | kind | measure | dimensions |",
        "|---|---|---|---|---|---|---|",
    ]
    for kpi in cat.kpis.values():
        m = kpi.measure
        measure = MEASURE_TEXT[m.type].format(
            numerator=m.numerator, denominator=m.denominator, expr=m.expr, p=m.p
        )
        if m.divisor:
            measure += f", divided by {m.divisor:g}"
        if kpi.where:
            measure += f"; rows where `{kpi.where}`"
        lines.append(
            f"| `{kpi.kpi}` ({kpi.name}, {kpi.unit}) | {kpi.definition} |"
            f" `{kpi.fact.model}` ({kpi.fact.grain}) | `{kpi.time}` | {KIND_TEXT[kpi.kind]} |"
            f" {measure.replace('|', '/')} | {', '.join(kpi.dimensions)} |"
        )
    return "\n".join(lines) + "\n"


def _generators() -> dict[Path, Callable[[Catalog], str]]:
    return {
        KPI_MODEL: lambda cat: dbt_kpis_model(list(cat.kpis.values())),
        SEMANTIC_YAML: render_semantic_yaml,
        KPI_DOCS: render_docs,
    }


def rendered_kpi_files(cat: Catalog | None = None) -> dict[Path, str]:
    cat = cat or load_catalog()
    return {path: render(cat) for path, render in _generators().items()}


def write_kpi_files() -> list[Path]:
    written = []
    for path, text in rendered_kpi_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_kpi_files() -> list[str]:
    return [
        str(path.relative_to(ROOT))
        for path, text in rendered_kpi_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
