"""Money KPIs computed over known costs read as such on their cards (app/kpis.py): the
coverage beside the value, "unknown" when no cost is known, never a made-up 0."""

from __future__ import annotations

from opsledger.app.kpis import COVERAGE, card_value, coverage_kpis, coverage_note
from opsledger.models.kpis import catalog


def test_every_coverage_is_a_governed_ratio() -> None:
    kpis = catalog().kpis
    for kpi, c in COVERAGE.items():
        assert kpis[kpi].unit in ("currency", "ratio")
        for name in (c.coverage, c.assumed):
            if name:
                assert kpis[name].unit == "ratio" and kpis[name].fact == kpis[kpi].fact


def test_cards_fetch_the_coverage_of_their_money_kpis() -> None:
    assert coverage_kpis(("inventory_value", "blocked_stock_value", "inventory_accuracy")) == (
        "inventory_cost_coverage",
        "inventory_cost_assumed_share",
        "blocked_stock_cost_coverage",
    )
    # shared by both margin cards, asked once
    assert coverage_kpis(("gross_margin", "gross_margin_rate")) == (
        "margin_cost_coverage",
        "margin_cost_assumed_share",
    )


def test_unknown_value_and_coverage_note() -> None:
    kpis = catalog().kpis
    assert card_value(kpis["inventory_value"], None, "GBP") == "unknown"
    assert card_value(kpis["inventory_value"], 80.0, "GBP") == "£80"
    assert card_value(kpis["unit_fill_rate"], None) == "n/a"  # no cost involved
    # 14 of 17 units: 82.4%; 2 of 8 assumed: 25.0%
    assert coverage_note("inventory_value", 14 / 17) == (
        "cost known or assumed for 82.4% of on-hand units"
    )
    assert coverage_note("inventory_value", 14 / 17, 0.25) == (
        "cost known or assumed for 82.4% of on-hand units (25.0% assumed: an estimate)"
    )
    assert coverage_note("blocked_stock_value", 0.0) == (
        "cost known or assumed for 0.0% of blocked units: the value is unknown"
    )
    assert coverage_note("blocked_stock_value", None) == "cost coverage: no blocked units"
    assert coverage_note("unit_fill_rate", 1.0) is None
