"""Order marts on generated data: sums equal the simulator's ground truth."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.dbt._lifecycle import ORDER_MODELS, failures_of, ground_truth, open_build_db

ORDER_TESTS = ("assert_order_",)


@pytest.fixture(scope="module")
def lifecycle_db(generated_home):
    con = open_build_db(generated_home)
    yield con
    con.close()


def test_order_models_and_tests_pass(generated_build):
    assert failures_of(generated_build, ORDER_MODELS, ORDER_TESTS) == []


def test_order_line_units_match_ground_truth(generated_home, lifecycle_db):
    truth = ground_truth(generated_home)
    ordered, cancelled, shipped = lifecycle_db.execute(
        "select sum(qty_ordered), sum(qty_cancelled), sum(qty_shipped) from marts.fct_order_lines"
    ).fetchone()
    assert ordered == truth["units_ordered"]
    assert cancelled == truth["units_cancelled"]
    assert shipped == truth["units_shipped"]


def test_order_line_invariants(lifecycle_db):
    bad = lifecycle_db.execute(
        """
        select count(*) from marts.fct_order_lines
        where qty_shipped + qty_cancelled > qty_ordered
           or qty_shipped_on_time > qty_shipped
           or qty_oversold not between 0 and qty_ordered
           or (qty_shipped > 0) != (shipment_count > 0)
        """
    ).fetchone()[0]
    assert bad == 0


def test_fill_daily_adds_up_to_order_lines(lifecycle_db):
    lines = lifecycle_db.execute(
        "select sum(qty_ordered - qty_cancelled), sum(qty_shipped_on_time) from marts.fct_order_lines"
    ).fetchone()
    daily = lifecycle_db.execute(
        "select sum(units_net), sum(units_shipped_on_time) from marts.fct_order_fill_daily"
    ).fetchone()
    assert lines == daily
    orders = lifecycle_db.execute(
        "select count(*) from marts.fct_orders where not is_fully_cancelled"
    ).fetchone()[0]
    assert (
        lifecycle_db.execute("select sum(orders) from marts.fct_order_fill_daily").fetchone()[0]
        == orders
    )


def test_exceptions_cover_flagged_lines(lifecycle_db):
    flagged = lifecycle_db.execute(
        """
        select
            count(*) filter (where is_split),
            count(*) filter (where is_substituted),
            count(*) filter (where qty_cancelled > 0)
        from marts.fct_order_lines
        """
    ).fetchone()
    exceptions = lifecycle_db.execute(
        """
        select
            count(*) filter (where exception_type = 'split'),
            count(*) filter (where exception_type = 'substitution'),
            count(*) filter (where exception_type = 'cancellation')
        from marts.fct_order_exceptions
        """
    ).fetchone()
    assert flagged == exceptions
    assert (
        lifecycle_db.execute(
            "select count(*) from marts.fct_order_exceptions where age_days < 0 or closed_at < opened_at"
        ).fetchone()[0]
        == 0
    )


def test_net_revenue_never_above_gross(lifecycle_db):
    over = lifecycle_db.execute(
        """
        select count(*) from marts.fct_order_lines
        where net_revenue > unit_price * qty_shipped + 0.005 or net_revenue < 0
        """
    ).fetchone()[0]
    assert over == 0
    total = lifecycle_db.execute("select sum(net_revenue) from marts.fct_order_lines").fetchone()[0]
    assert isinstance(total, Decimal)
