"""Finance, planning and KPI marts on generated data (scale 0.02, session build).

The general ledger must tie out to the stock ledger exactly on every day, every
journal must balance, the ledger must agree with the marts it posts from, and
kpi_daily must carry every governed KPI of models/kpis.yml with its declared
dimensions; a few KPI values are recomputed here from the fct_* tables.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

FINANCE_MODELS = (
    "int_gl_journals_unioned",
    "int_inventory_revaluations_computed",
    "dim_gl_account",
    "fct_gl_entries",
    "fct_inventory_gl_tieout",
    "fct_gross_margin_daily",
    "fct_margin_leakage",
    "fct_return_liabilities",
    "fct_replenishment_risk",
    "fct_node_freshness",
    "int_kpis_daily_computed",
    "kpi_daily",
)
SINGULAR_TESTS = (
    "assert_gl_journals_balance",
    "assert_gl_tieout_exact",
    "assert_gl_entries_trace_to_events",
    "assert_kpi_daily_covers_every_kpi",
    "assert_kpi_daily_grain_unique",
    "assert_kpi_daily_dimensions_governed",
)


def _governed_kpis() -> dict[str, list[str]]:
    spec = yaml.safe_load((REPO / "models" / "kpis.yml").read_text())
    return {kpi: list(body.get("dimensions") or []) for kpi, body in spec["kpis"].items()}


def _is_ours(name: str) -> bool:
    return any(part in name for part in FINANCE_MODELS + SINGULAR_TESTS)


def test_finance_nodes_build_and_pass(generated_build):
    assert generated_build.dbt.error is None, generated_build.dbt.error
    built = {r["name"] for r in generated_build.dbt.results}
    assert set(FINANCE_MODELS) <= built
    assert set(SINGULAR_TESTS) <= built
    assert [r for r in generated_build.dbt.failures if _is_ours(r["name"])] == []


def test_inventory_account_ties_out_to_stock_value_every_day(build_db):
    rows = build_db.execute(
        """
        with stock as (
            select date, sum(value) as stock_value from marts.fct_stock_daily group by date
        ),
        gl as (
            select posted_date as date, sum(amount) as posted
            from marts.fct_gl_entries where account = 'inventory' group by posted_date
        ),
        days as (select date from marts.fct_inventory_gl_tieout)
        select
            days.date,
            coalesce(stock.stock_value, 0) as stock_value,
            sum(coalesce(gl.posted, 0)) over (order by days.date) as gl_balance,
            tieout.difference
        from days
        left join stock using (date)
        left join gl using (date)
        join marts.fct_inventory_gl_tieout as tieout using (date)
        order by days.date
        """
    ).fetchall()
    assert len(rows) > 300
    mismatches = [r for r in rows if r[1] != r[2] or r[3] != 0]
    assert mismatches == []
    # no inventory posting falls outside the tie-out's days
    outside = build_db.execute(
        """
        select count(*) from marts.fct_gl_entries
        where account = 'inventory'
          and posted_date not in (select date from marts.fct_inventory_gl_tieout)
        """
    ).fetchone()[0]
    assert outside == 0


def test_every_journal_balances_and_lines_are_one_sided(build_db):
    unbalanced = build_db.execute(
        """
        select journal_id from marts.fct_gl_entries
        group by journal_id having sum(debit) <> sum(credit) or count(*) < 2
        """
    ).fetchall()
    assert unbalanced == []
    bad_lines = build_db.execute(
        """
        select count(*) from marts.fct_gl_entries
        where debit < 0 or credit < 0 or (debit > 0) = (credit > 0) or amount <> debit - credit
        """
    ).fetchone()[0]
    assert bad_lines == 0
    total = build_db.execute("select sum(amount) from marts.fct_gl_entries").fetchone()[0]
    assert total == 0


def test_ledger_agrees_with_the_marts_it_posts_from(build_db, generated_home):
    balances = dict(
        build_db.execute(
            "select account, sum(amount) from marts.fct_gl_entries group by account"
        ).fetchall()
    )
    net_revenue = build_db.execute("select sum(net_revenue) from marts.fct_order_lines").fetchone()[
        0
    ]
    assert -balances["revenue"] == net_revenue
    cogs_shipped = build_db.execute(
        "select sum(cogs_value) from marts.fct_stock_movements"
    ).fetchone()[0]
    shipped_in_gl = build_db.execute(
        "select sum(amount) from marts.fct_gl_entries where account = 'cogs' and journal_type = 'cogs'"
    ).fetchone()[0]
    assert shipped_in_gl == cogs_shipped
    refunds = build_db.execute("select sum(refund_amount) from marts.fct_return_lines").fetchone()[
        0
    ]
    assert balances["sales_returns"] == refunds
    totals = json.loads((generated_home / "ground_truth" / "totals.json").read_text())
    assert balances["sales_returns"] == Decimal(totals["refunded_amount"])
    margin = build_db.execute(
        "select sum(net_revenue), sum(cogs), sum(gross_margin) from marts.fct_gross_margin_daily"
    ).fetchone()
    assert margin[0] == -balances["revenue"] - balances["sales_returns"]
    assert margin[1] == balances["cogs"]
    assert margin[2] == margin[0] - margin[1]


def test_kpi_daily_has_every_governed_kpi_and_its_dimensions(build_db):
    governed = _governed_kpis()
    rows = build_db.execute(
        "select kpi, dimension from marts.kpi_daily group by kpi, dimension"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for kpi, dimension in rows:
        found.setdefault(kpi, set()).add(dimension)
    assert set(found) == set(governed)
    for kpi, dimensions in governed.items():
        assert found[kpi] == {"all", *dimensions}, kpi
    seeded = {r[0] for r in build_db.execute("select kpi from domain.domain_kpis").fetchall()}
    assert seeded == set(governed)
    duplicates = build_db.execute(
        """
        select count(*) from (
            select date, kpi, dimension, dimension_value from marts.kpi_daily
            group by all having count(*) > 1
        )
        """
    ).fetchone()[0]
    assert duplicates == 0


def test_unit_fill_rate_matches_order_fill_base(build_db):
    as_of = build_db.execute(
        "select max(cast(event_time as date)) from marts.fct_stock_movements"
    ).fetchone()[0]
    expected = build_db.execute(
        """
        select promised_date, sum(units_shipped_on_time), sum(units_net)
        from marts.fct_order_fill_daily where promised_date <= ?
        group by promised_date order by promised_date
        """,
        [as_of],
    ).fetchall()
    actual = build_db.execute(
        """
        select date, numerator, denominator from marts.kpi_daily
        where kpi = 'unit_fill_rate' and dimension = 'all' order by date
        """
    ).fetchall()
    assert [(d, float(n), float(m)) for d, n, m in expected] == actual
    channel_sum = build_db.execute(
        """
        select sum(numerator), sum(denominator) from marts.kpi_daily
        where kpi = 'unit_fill_rate' and dimension = 'channel'
        """
    ).fetchone()
    total = build_db.execute(
        """
        select sum(numerator), sum(denominator) from marts.kpi_daily
        where kpi = 'unit_fill_rate' and dimension = 'all'
        """
    ).fetchone()
    assert channel_sum == total


def test_snapshot_and_flow_kpis_recomputed(build_db):
    inventory = build_db.execute(
        """
        select k.date, k.value, s.stock_value
        from marts.kpi_daily as k
        join marts.fct_inventory_gl_tieout as s on k.date = s.date
        where k.kpi = 'inventory_value' and k.dimension = 'all'
        """
    ).fetchall()
    assert len(inventory) > 300
    assert all(v == pytest.approx(float(s), abs=0.005) for _, v, s in inventory)
    leakage_kpi, leakage_mart = build_db.execute(
        """
        select
            (select sum(value) from marts.kpi_daily where kpi = 'margin_leakage' and dimension = 'all'),
            (select sum(total) from marts.fct_margin_leakage)
        """
    ).fetchone()
    assert leakage_kpi == pytest.approx(float(leakage_mart), abs=0.01)
    accuracy = build_db.execute(
        """
        select
            (select sum(numerator) / sum(denominator) from marts.kpi_daily
             where kpi = 'inventory_accuracy' and dimension = 'all'),
            (select avg(case when is_accurate then 1.0 else 0.0 end) from marts.fct_cycle_counts)
        """
    ).fetchone()
    assert accuracy[0] == pytest.approx(float(accuracy[1]), rel=1e-9)
