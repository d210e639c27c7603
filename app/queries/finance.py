"""Finance: gross margin, margin leakage by component, return liabilities, stock-GL tie-out."""

from __future__ import annotations

import duckdb
import polars as pl
from opsledger.app.filters import Filters, Where, apply_filters
from opsledger.app.queries.returns import leakage_table, return_where
from opsledger.app.warehouse import NotBuilt, columns, has_table, pick, query, require

LEAKAGE_COMPONENTS = (
    "reverse_logistics_cost",
    "disposition_loss",
    "write_offs",
    "refunds_without_received_return",
)


def margin_leakage(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Margin leakage by component from the leakage mart."""
    table = leakage_table(con)
    if table is None:
        raise NotBuilt("marts.fct_margin_leakage")
    cols = columns(con, table)
    component = pick(cols, "component", "leakage_component", "leakage_type", "kind")
    amount = pick(cols, "amount", "leakage_amount", "value", "leakage")
    wide = [c for c in LEAKAGE_COMPONENTS if c in cols]
    if (component is None or amount is None) and not wide:
        from opsledger.app.queries.common import filtered_table

        return filtered_table(con, table, f)
    w = apply_filters(
        f,
        date_col=pick(cols, "date", "posted_at", "event_time", "occurred_at"),
        channel_col=pick(cols, "channel"),
        node_col=pick(cols, "node_id"),
        sku_col=pick(cols, "sku"),
    )
    if f.categories and "sku" not in cols and "category" in cols:
        w.add("list_contains($f_categories, category)", f_categories=list(f.categories))
    if component is None or amount is None:  # one column per component: unpivot
        sums = ", ".join(f"sum({c}) as {c}" for c in wide)
        row = con.execute(f"select {sums} from {table}{w.sql()}", w.params).fetchone() or ()
        return pl.DataFrame(
            {"component": wide, "amount": [float(v or 0) for v in row]},
            schema={"component": pl.String, "amount": pl.Float64},
        )
    return query(
        con,
        f"select {component} as component, sum({amount}) as amount"
        f" from {table}{w.sql()} group by 1 order by amount desc",
        w.params,
    )


def return_liabilities(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Return liabilities by channel and stage (marts.fct_return_liabilities), else
    authorized returns not yet refunded, valued at the original net unit price."""
    if has_table(con, "marts.fct_return_liabilities"):
        cols = columns(con, "marts.fct_return_liabilities")
        amount = pick(cols, "liability_amount", "refund_owed", "amount")
        stage = pick(cols, "liability_stage", "stage")
        if amount:
            w = apply_filters(
                f,
                date_col=pick(cols, "requested_at"),
                channel_col=pick(cols, "channel"),
                sku_col=pick(cols, "sku"),
            )
            return query(
                con,
                f"select channel, {stage or chr(39) + 'open' + chr(39)} as stage,"
                f" count(*) as return_lines, sum({amount}) as liability"
                f" from marts.fct_return_liabilities{w.sql()} group by all order by all",
                w.params,
            )
    require(con, "marts.fct_return_lines", "marts.fct_order_lines")
    w = return_where(con, f).add("r.authorized_at is not null and r.refunded_at is null")
    return query(
        con,
        "select r.channel, count(*) as open_return_lines, sum(r.quantity) as units,"
        " sum(r.quantity * o.net_revenue / nullif(o.qty_ordered - o.qty_cancelled, 0))"
        " as refund_liability,"
        " count(*) filter (where r.received_at is null) as not_yet_received"
        " from marts.fct_return_lines r"
        " left join marts.fct_order_lines o on o.order_line_id = r.order_line_id"
        f"{w.sql()} group by 1 order by 1",
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
    """Inventory value of the stock ledger (fct_stock_on_hand) against the balance of the
    GL's inventory account(s) (cumulative, up to the end of the date range)."""
    if has_table(con, "marts.fct_inventory_gl_tieout"):
        cols = columns(con, "marts.fct_inventory_gl_tieout")
        if "date" in cols:
            w = apply_filters(f, date_col="date")
            return query(
                con,
                f"select * from marts.fct_inventory_gl_tieout{w.sql()} order by date desc limit 1",
                w.params,
            ).unpivot(index="date", variable_name="measure", value_name="amount")
    require(con, "marts.fct_stock_on_hand", "marts.fct_gl_entries")
    w = Where().add("lower(account) like '%inventory%'")
    if f.end:
        w.add("cast(posted_at as date) <= $f_end", f_end=f.end)
    row = con.execute(
        "select (select sum(value) from marts.fct_stock_on_hand),"
        f" (select sum(debit) - sum(credit) from marts.fct_gl_entries{w.sql()})",
        w.params,
    ).fetchone()
    stock, gl = (float(v) if v is not None else None for v in (row or (None, None)))
    diff = None if stock is None or gl is None else stock - gl
    return pl.DataFrame(
        {
            "measure": ["stock ledger value (on hand, now)", "GL inventory balance", "difference"],
            "amount": [stock, gl, diff],
        },
        schema={"measure": pl.String, "amount": pl.Float64},
    )
