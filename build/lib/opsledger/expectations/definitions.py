"""The quality suites, declared once in plain Python (no Great Expectations import).

Each suite validates one bounded pandas frame that `expectations.frames` computes
from the build database: the newest ingested batch of a source (landing contract)
or a small invariant table computed in DuckDB over the marts. Every check carries
a severity: ``error`` blocks publication, ``warning`` publishes with a flag. The
severity is stored in the expectation's ``meta`` (and mirrored in GX's own
``severity`` field: error -> critical) so the committed JSON and Data Docs show it.

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

# Bounds and tolerances of the gate.
LANDING_ROW_CAP = 200_000  # rows of the newest batch validated per source
INVARIANT_ROW_CAP = 200_000  # rows of a per-key invariant table (worst rows first)
MONEY_TOLERANCE = 0.01  # currency units
QUARANTINE_SHARE_WARNING = 0.05  # share of a batch's rows quarantined before we warn
# The GL account that carries inventory at cost (fct_gl_entries.account).
GL_INVENTORY_ACCOUNT = "inventory"

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

    @property
    def asset(self) -> str:
        return self.name

    @property
    def validation_definition(self) -> str:
        return self.name

    @property
    def checkpoint(self) -> str:
        return self.name


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


# -- invariants of the marts -----------------------------------------------------


def invariant_suites() -> list[Suite]:
    domain = load_domain()
    return [
        Suite(
            name="inv_conservation",
            description=(
                "Per SKU: on hand (internal states) plus the balances of the external "
                "states from the movement ledger is 0, and every movement's legs cancel."
            ),
            frame="conservation",
            checks=(
                _between(
                    "ledger_legs_cancel",
                    "ledger_imbalance",
                    0,
                    0,
                    description="Sum of signed movement legs over all domain states is 0 per SKU.",
                ),
                _between(
                    "on_hand_plus_external_zero",
                    "imbalance",
                    0,
                    0,
                    description="Sum over all states incl. external (on hand + external balances) is 0 per SKU.",
                ),
            ),
            requires=("marts.fct_stock_movements", "marts.fct_stock_on_hand"),
            key_columns=("sku",),
        ),
        Suite(
            name="inv_non_negative",
            description="Minimum quantity per internal state in fct_stock_on_hand and fct_stock_daily.",
            frame="non_negative",
            checks=(
                _between(
                    "min_quantity_non_negative",
                    "min_quantity",
                    min_value=0,
                    severity=WARNING,
                    description="No negative stock in an internal state (an anomaly listed "
                    "in fct_ledger_exceptions: warns, never blocks publication).",
                ),
                _in_set(
                    "state_internal",
                    "state",
                    list(domain.internal_states),
                    "Stock tables hold internal states only.",
                ),
            ),
            requires=("marts.fct_stock_on_hand", "marts.fct_stock_daily"),
            key_columns=("table_name", "state"),
        ),
        Suite(
            name="gl_journals_balanced",
            description="Per journal_id in fct_gl_entries: sum(debit) - sum(credit) (worst first).",
            frame="journal_balance",
            checks=(
                _between(
                    "journal_balances",
                    "abs_difference",
                    max_value=0.005,
                    description="Every journal balances: debits = credits.",
                ),
            ),
            requires=("marts.fct_gl_entries",),
            key_columns=("journal_id",),
        ),
        Suite(
            name="gl_inventory_reconciled",
            description=(
                "Per day: inventory value from fct_stock_daily vs the cumulative balance "
                f"of GL account '{GL_INVENTORY_ACCOUNT}'."
            ),
            frame="inventory_vs_gl",
            checks=(
                _between(
                    "stock_value_equals_gl",
                    "abs_difference",
                    max_value=MONEY_TOLERANCE,
                    description=f"|stock value - GL inventory balance| <= {MONEY_TOLERANCE} every day.",
                ),
            ),
            requires=("marts.fct_stock_daily", "marts.fct_gl_entries"),
            key_columns=("date",),
        ),
        Suite(
            name="returns_refund_cap",
            description="Per order line with refunds: refunds vs what was paid for the line.",
            frame="refund_cap",
            checks=(
                _between(
                    "refund_not_above_paid",
                    "excess",
                    max_value=MONEY_TOLERANCE,
                    severity=WARNING,
                    description="Refunds never exceed what was paid for the order line "
                    "(an anomaly listed in fct_ledger_exceptions).",
                ),
            ),
            requires=("marts.fct_return_lines", "marts.fct_order_lines"),
            key_columns=("order_line_id",),
        ),
        Suite(
            name="returns_dispositions",
            description="Return lines per (product class, disposition), flagged by the domain's rules.",
            frame="dispositions",
            checks=(
                _in_set(
                    "disposition_allowed_for_class",
                    "allowed",
                    [True],
                    "Every disposition is allowed for the SKU's product class "
                    "(domain_product_class_dispositions).",
                    severity=WARNING,
                ),
            ),
            requires=("marts.fct_return_lines", "marts.dim_sku"),
            key_columns=("product_class", "disposition"),
        ),
        Suite(
            name="ops_node_freshness",
            description=(
                "Per node: minutes since its last stock event (as of the newest stock event) "
                "against its node type's SLA (stale_after_minutes); p95 ingest latency shown."
            ),
            frame="node_freshness",
            checks=(
                _between(
                    "node_not_stale",
                    "stale_excess_minutes",
                    max_value=0,
                    severity=WARNING,
                    description="A node with no stock event for longer than its SLA is stale.",
                ),
            ),
            requires=("marts.dim_node", "raw.stock_events"),
            key_columns=("node_id",),
        ),
        Suite(
            name="kpi_daily_governed",
            description=(
                "Per KPI of kpi_daily and of models/kpis.yml: governed name, one row per "
                "(date, kpi, dimension, dimension_value), ratios within 0-1, a total row."
            ),
            frame="kpi_daily",
            checks=(
                _in_set(
                    "kpi_governed",
                    "governed",
                    [True],
                    "Every KPI in kpi_daily is defined in models/kpis.yml.",
                ),
                _between(
                    "kpi_rows_unique",
                    "duplicate_keys",
                    0,
                    0,
                    description="One row per date x kpi x dimension x dimension_value.",
                ),
                _between(
                    "ratio_within_0_1",
                    "ratio_out_of_range",
                    0,
                    0,
                    severity=WARNING,
                    description="KPIs with unit ratio lie between 0 and 1 (a ratio above 1 "
                    "comes from anomalous feeds, e.g. more units returned than shipped: "
                    "warns, never blocks publication).",
                ),
                _between(
                    "kpi_has_total",
                    "total_rows",
                    min_value=1,
                    severity=WARNING,
                    description="Every governed KPI has values for dimension 'all'.",
                ),
            ),
            requires=("marts.kpi_daily",),
            key_columns=("kpi",),
        ),
    ]


def suites() -> list[Suite]:
    """All suites, in the order the gate runs them."""
    domain = load_domain()
    landing = [landing_suite(source) for source in domain.sources]
    return [*landing, landing_batches_suite(), *invariant_suites()]


def suite_by_name(name: str) -> Suite:
    return next(s for s in suites() if s.name == name)
