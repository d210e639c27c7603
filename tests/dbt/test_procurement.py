"""Procurement marts on generated data: receipts reconcile with stock movements."""

from __future__ import annotations

import pytest

from tests.dbt._lifecycle import PROCUREMENT_MODELS, failures_of, open_build_db

PROCUREMENT_TESTS = ("assert_po_",)


@pytest.fixture(scope="module")
def lifecycle_db(generated_home):
    con = open_build_db(generated_home)
    yield con
    con.close()


def test_procurement_models_and_tests_pass(generated_build):
    assert failures_of(generated_build, PROCUREMENT_MODELS, PROCUREMENT_TESTS) == []


def test_po_receipts_reconcile_with_movements(lifecycle_db):
    po_lines, movements = lifecycle_db.execute(
        """
        select
            (select sum(qty_received) from marts.fct_po_lines),
            (select sum(quantity) from staging.stg_stock__movements where event_type = 'po_receipt')
        """
    ).fetchone()
    assert po_lines == movements


def test_supplier_performance_adds_up(lifecycle_db):
    lines, otif = lifecycle_db.execute(
        "select count(*), count(*) filter (where is_due and is_on_time_in_full) from marts.fct_po_lines"
    ).fetchone()
    sup_lines, sup_otif = lifecycle_db.execute(
        "select sum(po_lines), sum(po_lines_otif) from marts.fct_supplier_performance"
    ).fetchone()
    assert (lines, otif) == (sup_lines, sup_otif)
    assert (
        lifecycle_db.execute(
            "select count(*) from marts.fct_supplier_performance where otif_rate not between 0 and 1"
        ).fetchone()[0]
        == 0
    )
