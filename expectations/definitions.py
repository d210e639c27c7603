"""The quality suites, declared once in plain Python (no Great Expectations import).

The gate (`expectations.gate`) turns them into GX suites in an ephemeral context on
every run: nothing GX generates (ids, JSON stores) is committed. Each suite
validates one bounded pandas frame that `expectations.frames` computes from the
build database: the newest ingested batch of a source (landing contract) or a small
table describing the distributions of the published marts. Warehouse invariants are
dbt tests, not suites here. Every check carries a severity: ``error`` blocks
publication, ``warning`` publishes with a flag. The severity is stored in the
expectation's ``meta`` (and mirrored in GX's own ``severity`` field: error ->
critical) so the results and Data Docs show it.

Values come from the domain model (`models/domain.yml`) wherever there is one:
event types per source, enums, positive / non-negative fields, states, node SLAs
and product-class dispositions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsledger.models import load_domain

ERROR = "error"
WARNING = "warning"
GX_SEVERITY = {ERROR: "critical", WARNING: "warning"}

# Bounds of the gate.
LANDING_ROW_CAP = 200_000  # rows of the newest batch validated per source
QUARANTINE_SHARE_WARNING = 0.05  # share of a batch's rows quarantined before we warn

DATASOURCE = "opsledger"
BATCH_DEFINITION = "whole_dataframe"


@dataclass(frozen=True)
class Check:
    """One expectation: a GX expectation type and its kwargs, plus our severity."""

    name: str  # stable, unique within the suite; reported as `expectation`
    type: str  # GX expectation type, e.g. expect_column_values_to_be_between
    kwargs: dict[str, Any]
    severity: str = ERROR
    description: str = ""

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def meta(self) -> dict[str, Any]:
        return {"name": self.name, "severity": self.severity}


@dataclass(frozen=True)
class Suite:
    """A suite, the frame it validates and the tables the frame needs."""

    name: str
    description: str
    frame: str  # builder in expectations.frames
    checks: tuple[Check, ...]
    requires: tuple[str, ...] = ()  # schema.table the frame reads
    # a missing required table fails the gate (marts) or just skips the suite (raw
    # bookkeeping that a fresh home may not have yet)
    missing_is_error: bool = True
    key_columns: tuple[str, ...] = ()  # shown next to unexpected values
    params: dict[str, Any] = field(default_factory=dict)


# -- helpers -------------------------------------------------------------------


def _not_null(column: str, severity: str = ERROR, description: str = "") -> Check:
    return Check(
        f"{column}_not_null",
        "expect_column_values_to_not_be_null",
        {"column": column},
        severity,
        description or f"{column} is always present.",
    )


def _between(
    name: str,
    column: str,
    min_value: float | None = None,
    max_value: float | None = None,
    severity: str = ERROR,
    description: str = "",
    strict_min: bool = False,
) -> Check:
    kwargs: dict[str, Any] = {"column": column}
    if min_value is not None:
        kwargs["min_value"] = min_value
    if max_value is not None:
        kwargs["max_value"] = max_value
    if strict_min:
        kwargs["strict_min"] = True
    return Check(name, "expect_column_values_to_be_between", kwargs, severity, description)


def _in_set(name: str, column: str, values: list[Any], description: str, severity=ERROR) -> Check:
    return Check(
        name,
        "expect_column_values_to_be_in_set",
        {"column": column, "value_set": values},
        severity,
        description,
    )


# -- landing contract ------------------------------------------------------------


def landing_columns(source: str) -> list[str]:
    """Columns of raw.<source>_events the landing suite reads (bounded frame)."""
    return [c for c in _landing_fields(source) if c]


def _landing_fields(source: str) -> list[str]:
    domain = load_domain()
    columns = ["event_id", "event_type", "event_time", "source", "batch_id"]
    for name in domain.source_fields(source):
        spec = domain.fields[name]
        if (spec.enum or spec.constraint) and name not in columns:
            columns.append(name)
    return columns


def landing_suite(source: str) -> Suite:
    domain = load_domain()
    types = sorted(domain.sources[source].event_types)
    checks: list[Check] = [
        _not_null("event_id"),
        Check(
            "event_id_unique",
            "expect_column_values_to_be_unique",
            {"column": "event_id"},
            ERROR,
            "event_id is the idempotency key: unique within the batch.",
        ),
        _not_null("event_type"),
        _in_set(
            "event_type_in_source_types",
            "event_type",
            types,
            f"Only the {source} event types of the domain model.",
        ),
        _not_null("event_time", description="event_time is always present (UTC)."),
        _not_null("source", description="The sending system is always named."),
    ]
    for name in _landing_fields(source):
        spec = domain.fields.get(name)
        if spec is None:
            continue
        if spec.enum:
            values = sorted(domain.enum_values(spec.enum))
            checks.append(
                _in_set(
                    f"{name}_in_domain", name, values, f"{name} is one of the domain's {spec.enum}."
                )
            )
        if spec.constraint == "positive":
            checks.append(
                _between(
                    f"{name}_positive",
                    name,
                    min_value=0,
                    strict_min=True,
                    description=f"{name} > 0 where present.",
                )
            )
        elif spec.constraint == "non_negative":
            checks.append(
                _between(
                    f"{name}_non_negative",
                    name,
                    min_value=0,
                    description=f"{name} >= 0 where present.",
                )
            )
    return Suite(
        name=f"landing_{source}",
        description=(
            f"Landing contract of the newest ingested batch of raw.{source}_events "
            f"(at most {LANDING_ROW_CAP:,} rows)."
        ),
        frame="landing_events",
        checks=tuple(checks),
        requires=(f"raw.{source}_events",),
        missing_is_error=False,
        key_columns=("event_id",),
        params={"source": source, "columns": landing_columns(source)},
    )


def landing_batches_suite() -> Suite:
    return Suite(
        name="landing_batches",
        description=(
            "Per source, the newest ingest batch's file counts: rows_read = loaded + "
            "duplicates + quarantined, and the share quarantined."
        ),
        frame="landing_batches",
        checks=(
            _between(
                "rows_reconcile",
                "unreconciled_rows",
                0,
                0,
                description="rows_read - loaded - duplicates - quarantined = 0 for every source.",
            ),
            _between(
                "quarantine_share_low",
                "quarantine_share",
                0,
                QUARANTINE_SHARE_WARNING,
                WARNING,
                f"At most {QUARANTINE_SHARE_WARNING:.0%} of a batch's rows still in quarantine.",
            ),
        ),
        requires=("raw.ingest_files",),
        missing_is_error=False,
        key_columns=("source", "batch_id"),
    )


# -- distributions of the published marts ------------------------------------
#
# Invariants (conservation, GL tie-out, journal balance, refund caps, allowed
# dispositions, grains, ...) are dbt tests (dbt/tests/, model YAML): one rule, one
# place. These suites watch what dbt cannot express as a rule: the shape of what
# is about to be published (volumes, null shares, governed value ranges, stale
# feeds). They warn; they never block publication.

# Marts that must hold rows once their source has delivered events; None = any source.
NON_EMPTY_MARTS: dict[str, str | None] = {
    "dim_sku": "master",
    "dim_node": "master",
    "fct_stock_movements": "stock",
    "fct_stock_on_hand": "stock",
    "fct_stock_daily": "stock",
    "fct_order_lines": "orders",
    "fct_orders": "orders",
    "fct_return_lines": "returns",
    "fct_po_lines": "procurement",
    "fct_gl_entries": None,
    "kpi_daily": None,
}

# (mart, column) -> the largest share of null values we accept. Unknown costs stay
# unknown (never zero), so a rising share of them means master data is missing.
MAX_NULL_SHARE: dict[tuple[str, str], float] = {
    ("dim_sku", "unit_cost"): 0.05,
    ("fct_stock_movements", "unit_cost"): 0.05,
    ("fct_stock_movements", "value"): 0.05,
    ("fct_stock_on_hand", "value"): 0.05,
    ("fct_stock_daily", "value"): 0.05,
    ("fct_order_lines", "net_revenue"): 0.05,
    # a ratio is undefined (null) on a day without denominator; most rows have one
    ("kpi_daily", "value"): 0.25,
}

# Governed value range of a kpi_daily value by the KPI's unit (models/kpis.yml); a
# ratio with `bounded: false` (a margin rate) and money or day spans are unbounded.
KPI_UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "ratio": (0.0, 1.0),
    "units": (0.0, None),
    "lines": (0.0, None),
    "skus": (0.0, None),
    "minutes": (0.0, None),
}


def mart_suites() -> list[Suite]:
    return [
        Suite(
            name="marts_row_counts",
            description=(
                "Rows per core public mart, and the events its source delivered: a mart "
                "left empty although its source has events means a broken model."
            ),
            frame="mart_row_counts",
            checks=(
                _between(
                    "mart_not_empty",
                    "row_count",
                    min_value=1,
                    severity=WARNING,
                    description="A core mart has rows once its source has delivered events.",
                ),
            ),
            requires=tuple(f"marts.{m}" for m in NON_EMPTY_MARTS),
            key_columns=("mart",),
            params={"marts": dict(NON_EMPTY_MARTS)},
        ),
        Suite(
            name="marts_null_share",
            description="Share of null values of the governed columns of the public marts.",
            frame="mart_null_share",
            checks=(
                _between(
                    "null_share_within_limit",
                    "null_excess",
                    max_value=0,
                    severity=WARNING,
                    description="null share <= the column's limit (definitions.MAX_NULL_SHARE).",
                ),
            ),
            requires=tuple(sorted({f"marts.{m}" for m, _ in MAX_NULL_SHARE})),
            key_columns=("mart", "column_name"),
            params={"limits": dict(MAX_NULL_SHARE)},
        ),
        Suite(
            name="marts_kpi_daily",
            description=(
                "Per governed KPI of kpi_daily: values outside the governed range of its "
                "unit (ratios 0-1, counts and minutes >= 0) and its share of null values."
            ),
            frame="kpi_daily",
            checks=(
                _between(
                    "value_within_governed_range",
                    "out_of_range",
                    0,
                    0,
                    severity=WARNING,
                    description="KPI values lie in their unit's governed range (a ratio above "
                    "1 comes from anomalous feeds, e.g. more units returned than shipped: "
                    "warns, never blocks publication).",
                ),
            ),
            requires=("marts.kpi_daily",),
            key_columns=("kpi",),
            params={"ranges": dict(KPI_UNIT_RANGES)},
        ),
        Suite(
            name="marts_node_freshness",
            description=(
                "Per node of fct_node_freshness (staleness as dbt defines it, against the "
                "node's SLA in models/domain.yml): the nodes whose stock feed is stale."
            ),
            frame="node_freshness",
            checks=(
                _in_set(
                    "node_not_stale",
                    "is_stale",
                    [False],
                    "A node with no stock event for longer than its SLA is stale.",
                    severity=WARNING,
                ),
            ),
            requires=("marts.fct_node_freshness",),
            key_columns=("node_id",),
        ),
    ]


def suites() -> list[Suite]:
    """All suites, in the order the gate runs them."""
    domain = load_domain()
    landing = [landing_suite(source) for source in domain.sources]
    return [*landing, landing_batches_suite(), *mart_suites()]


def suite_by_name(name: str) -> Suite:
    return next(s for s in suites() if s.name == name)
