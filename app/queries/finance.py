"""Finance: margin leakage by component, refunds paid, return liabilities, stock-GL
tie-out, GL."""

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


# The refunds the general ledger posts, by journal type (docs/posting-rules.md): a
# return refund reverses revenue (sales_returns), a cancellation refund gives back
# money for units never shipped (it reverses the payment: accounts_receivable).
REFUND_KINDS = {
    "refund_paid": "return refunds (sales_returns)",
    "cancellation_refund": "cancellation refunds (units never shipped)",
}


def refunds_paid(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Refunds paid in the range, return refunds and cancellation refunds apart: the
    cash credited by each journal type (marts.fct_gl_entries), for the channels and
    categories filtered. Both kinds are always listed (0 when none)."""
    require(con, "marts.fct_gl_entries")
    w = apply_filters(f, date_col="posted_date", channel_col="channel", category_col="category")
    w.add("account = 'cash'")
    kinds = ", ".join(
        f"('{k}', '{label}', {n})" for n, (k, label) in enumerate(REFUND_KINDS.items())
    )
    return query(
        con,
        f"select kinds.refund as refund, count(e.journal_id) as journals,"
        f" coalesce(sum(e.credit), 0) as amount"
        f" from (values {kinds}) as kinds(journal_type, refund, position)"
        f" left join (select * from marts.fct_gl_entries{w.sql()}) as e"
        f" on e.journal_type = kinds.journal_type"
        f" group by kinds.refund, kinds.position order by kinds.position",
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
