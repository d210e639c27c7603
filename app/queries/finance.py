"""Finance: margin leakage by component, return liabilities, stock-GL tie-out, GL."""

from __future__ import annotations

import duckdb
import polars as pl

from opsledger.app.filters import Filters, apply_filters
from opsledger.app.warehouse import query, require

# fct_margin_leakage's components: its contract says total is their sum.
LEAKAGE_COMPONENTS = (
    "reverse_logistics_cost",
    "disposition_loss",
    "write_offs",
    "refunds_without_received_return",
)


def margin_leakage(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Margin leakage by component (the mart has one column per component), posted in
    the range, for the channels and categories filtered."""
    require(con, "marts.fct_margin_leakage")
    w = apply_filters(f, date_col="date", channel_col="channel", category_col="category")
    sums = ", ".join(f"coalesce(sum({c}), 0) as {c}" for c in LEAKAGE_COMPONENTS)
    return query(
        con,
        f"unpivot (select {sums} from marts.fct_margin_leakage{w.sql()})"
        f" on {', '.join(LEAKAGE_COMPONENTS)} into name component value amount",
        w.params,
    ).with_columns(pl.col("amount").cast(pl.Float64))


def return_liabilities(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Open return liabilities by channel and stage (marts.fct_return_liabilities)."""
    require(con, "marts.fct_return_liabilities")
    w = apply_filters(
        f, date_col="requested_at", channel_col="channel", category_col="category", sku_col="sku"
    )
    return query(
        con,
        "select channel, liability_stage as stage, count(*) as return_lines,"
        " sum(liability_amount) as liability"
        f" from marts.fct_return_liabilities{w.sql()} group by all order by all",
        w.params,
    )


def gl_by_account(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    require(con, "marts.fct_gl_entries")
    w = apply_filters(f, date_col="posted_at")
    return query(
        con,
        "select account, sum(debit) as debit, sum(credit) as credit,"
        " sum(debit) - sum(credit) as balance, count(*) as lines"
        f" from marts.fct_gl_entries{w.sql()} group by account order by account",
        w.params,
    )


def stock_gl_tieout(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """The stock ledger against the GL inventory account on the range's last day
    (marts.fct_inventory_gl_tieout), one measure per row."""
    require(con, "marts.fct_inventory_gl_tieout")
    w = apply_filters(f, date_col="date")
    return query(
        con,
        f"select * from marts.fct_inventory_gl_tieout{w.sql()} order by date desc limit 1",
        w.params,
    ).unpivot(index="date", variable_name="measure", value_name="amount")
