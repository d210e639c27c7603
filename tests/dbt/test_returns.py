"""Return marts on generated data: sums equal the simulator's ground truth."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.dbt._lifecycle import RETURN_MODELS, failures_of, ground_truth, open_build_db

RETURN_TESTS = ("assert_refunds_", "assert_dispositions_", "assert_return_")


@pytest.fixture(scope="module")
def lifecycle_db(generated_home):
    con = open_build_db(generated_home)
    yield con
    con.close()


def test_return_models_and_tests_pass(generated_build):
    assert failures_of(generated_build, RETURN_MODELS, RETURN_TESTS) == []


def test_units_received_match_ground_truth(generated_home, lifecycle_db):
    truth = ground_truth(generated_home)
    received = lifecycle_db.execute(
        "select sum(qty_received) from marts.fct_return_lines"
    ).fetchone()[0]
    assert received == truth["units_returned"]


def test_refunded_amount_matches_ground_truth(generated_home, lifecycle_db):
    truth = ground_truth(generated_home)
    refunded = lifecycle_db.execute(
        "select sum(refund_amount) from marts.fct_return_lines"
    ).fetchone()[0]
    assert refunded == Decimal(truth["refunded_amount"])


def test_reverse_logistics_cost_fully_attributed(lifecycle_db):
    lines, ledger = lifecycle_db.execute(
        """
        select
            (select sum(reverse_logistics_cost) from marts.fct_return_lines),
            (select sum(amount) from staging.stg_finance__ledger_events
             where event_type = 'reverse_logistics_cost')
        """
    ).fetchone()
    assert lines == ledger


def test_cohorts_add_up_to_lines(lifecycle_db):
    cohort = lifecycle_db.execute(
        """
        select sum(units_shipped), sum(units_authorized) from marts.fct_return_rate_cohorts
        where channel = 'all' and category = 'all'
        """
    ).fetchone()
    shipped = lifecycle_db.execute("select sum(qty_shipped) from marts.fct_order_lines").fetchone()[
        0
    ]
    authorized = lifecycle_db.execute(
        "select sum(quantity) from marts.fct_return_lines where authorized_at is not null"
    ).fetchone()[0]
    assert cohort == (shipped, authorized)


def test_backlog_matches_open_receipts(lifecycle_db):
    awaiting = lifecycle_db.execute(
        "select coalesce(sum(units), 0) from marts.fct_disposition_backlog "
        "where backlog_stage = 'awaiting_disposition'"
    ).fetchone()[0]
    open_lines = lifecycle_db.execute(
        "select coalesce(sum(qty_received), 0) from marts.fct_return_lines "
        "where received_at is not null and disposed_at is null"
    ).fetchone()[0]
    assert awaiting == open_lines


def test_cycle_times_consistent(lifecycle_db):
    bad = lifecycle_db.execute(
        """
        select count(*) from marts.fct_return_lines
        where (days_requested_to_refunded < 0)
           or (not is_refund_before_receipt and days_received_to_refunded < 0)
           or (days_received_to_restocked < 0)
        """
    ).fetchone()[0]
    assert bad == 0
