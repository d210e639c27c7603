"""The app's KPIs on a warehouse dbt built (tests/app/conftest.app_home, a writable copy
of real_home): every card is the metrics service's value for the same slice, the three
contradictions of issue 15 are gone, a filter a KPI is not defined by says so, and
filters live in the URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from opsledger.app.kpis import (
    FINANCE_KPIS,
    FULFILLMENT_KPIS,
    INVENTORY_KPIS,
    OVERVIEW_KPIS,
    REPLENISHMENT_KPIS,
    RETURNS_KPIS,
    card_value,
    format_value,
)
from opsledger.app.queries.common import currency
from opsledger.core.readonly import connect_read_only
from opsledger.metrics.service import MetricsService, Slice
from opsledger.models.kpis import catalog
from tests.app.conftest import session_for

MAIN = "../../app/main.py"
PAGE_KPIS = {
    "overview": OVERVIEW_KPIS,
    "inventory": INVENTORY_KPIS,
    "returns": RETURNS_KPIS,
    "fulfillment": FULFILLMENT_KPIS,
    "finance": FINANCE_KPIS,
    "replenishment": REPLENISHMENT_KPIS,
}


def open_app(home: Path, monkeypatch: pytest.MonkeyPatch, page: str, **params) -> AppTest:
    monkeypatch.setenv("OPSLEDGER_HOME", str(home))
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.session_state["wb_session"] = session_for(home, "admin")  # signed in: data shows
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        for k, v in params.items():  # a page switch clears them, as in a browser
            at.query_params[k] = v
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cards(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def service(app_home: Path):
    con = connect_read_only(app_home / "warehouse.duckdb")
    yield MetricsService(con), currency(con)
    con.close()


def expected(service, kpi: str, s: Slice) -> str:
    svc, cur = service
    k = catalog().get(kpi)
    if svc.supports(k, s):
        return "—"
    return card_value(k, svc.value(kpi, s).value, cur)


@pytest.mark.parametrize("page", list(PAGE_KPIS))
def test_every_card_is_the_services_value(app_home, service, page, monkeypatch) -> None:
    at = open_app(app_home, monkeypatch, page)
    shown = cards(at)
    for kpi in PAGE_KPIS[page]:
        assert shown[catalog().get(kpi).name] == expected(service, kpi, Slice()), kpi
    # the same under a combination of filters (channel + node + a date range)
    svc, _ = service
    first, last = svc.bounds()
    channel = svc.dimension_values("channel")[0]
    node = svc.dimension_values("node")[0]
    at.multiselect(key="f_channels").set_value([channel]).run()
    at.multiselect(key="f_nodes").set_value([node]).run()
    at.date_input(key="f_dates").set_value((first.replace(day=1), last)).run()
    assert not at.exception
    s = Slice(first.replace(day=1), last, {"channel": (channel,), "node": (node,)})
    shown = cards(at)
    for kpi in PAGE_KPIS[page]:
        assert shown[catalog().get(kpi).name] == expected(service, kpi, s), kpi


def test_a_filter_a_kpi_is_not_defined_by_says_so(app_home, monkeypatch) -> None:
    at = open_app(app_home, monkeypatch, "fulfillment")
    node = at.multiselect(key="f_nodes").options[0]
    at.multiselect(key="f_nodes").set_value([node]).run()
    assert cards(at)["Order fill rate"] == "—"
    captions = " ".join(c.value for c in at.caption)
    assert "not defined by node" in captions
    assert "filter not applied" not in captions


def _frame_with(at: AppTest, *cols: str):
    for d in at.dataframe:
        if all(c in d.value.columns for c in cols):
            return d.value
    raise AssertionError(f"no table with {cols}: {[list(d.value.columns) for d in at.dataframe]}")


def test_refund_p90_card_and_by_channel_table_agree(app_home, service, monkeypatch) -> None:
    svc, cur = service
    at = open_app(app_home, monkeypatch, "returns")
    at.selectbox(key="ret_ct_kpi").set_value("refund_cycle_time_p90_days").run()
    table = _frame_with(at, "channel", "refund_cycle_time_p90_days")
    by_channel = {
        v.group[0]: v.value
        for v in svc.evaluate("refund_cycle_time_p90_days", Slice(), by=("channel",))
    }
    got = dict(zip(table["channel"], table["refund_cycle_time_p90_days"], strict=True))
    assert got == pytest.approx(by_channel)
    # filtered to one channel, the card is that channel's row of the table
    channel = next(iter(by_channel))
    at.multiselect(key="f_channels").set_value([channel]).run()
    table = _frame_with(at, "channel", "refund_cycle_time_p90_days")
    assert list(table["channel"]) == [channel]
    card = cards(at)["Refund cycle time (p90)"]
    assert card == format_value(float(table["refund_cycle_time_p90_days"][0]), "days", cur)
    assert card == format_value(by_channel[channel], "days", cur)


def test_unit_fill_rate_is_the_same_on_every_page(app_home, monkeypatch) -> None:
    seen = {}
    for page in ("overview", "fulfillment"):
        at = open_app(app_home, monkeypatch, page)
        at.multiselect(key="f_channels").set_value(["web"]).run()
        seen[page] = cards(at)["Unit fill rate"]
    assert len(set(seen.values())) == 1, seen


def test_disposition_backlog_card_equals_the_chart_beside_it(app_home, monkeypatch) -> None:
    at = open_app(app_home, monkeypatch, "returns")
    card = cards(at)["Disposition backlog"]
    table = _frame_with(at, "state", "node", "disposition_backlog_units")
    assert card == format_value(float(table["disposition_backlog_units"].sum()), "units")
    assert set(table["state"]) <= {"returned", "quality_hold"}


def test_filters_come_from_and_go_to_the_url(app_home, service, monkeypatch) -> None:
    svc, _ = service
    channel = svc.dimension_values("channel")[-1]
    at = open_app(app_home, monkeypatch, "overview", channel=channel, to="2025-06-30")
    assert at.multiselect(key="f_channels").value == [channel]
    start, end = at.date_input(key="f_dates").value
    assert str(end) == "2025-06-30"
    s = Slice(start, end, {"channel": (channel,)})
    assert cards(at)["Unit fill rate"] == expected(service, "unit_fill_rate", s)
    # and the view is written back to the URL (a link reproduces it)
    at.multiselect(key="f_nodes").set_value([svc.dimension_values("node")[0]]).run()
    assert at.query_params["node"] in (
        [svc.dimension_values("node")[0]],
        svc.dimension_values("node")[0],
    )


def test_card_drill_opens_the_fact_rows(app_home, service, monkeypatch) -> None:
    svc, _ = service
    at = open_app(app_home, monkeypatch, "fulfillment")
    at.selectbox(key="drill_card_ful_cards").set_value("unit_fill_rate").run()
    assert not at.exception
    v = svc.value("unit_fill_rate", Slice())
    captions = " ".join(c.value for c in at.caption)
    assert catalog().get("unit_fill_rate").definition in captions
    rows = _frame_with(at, "kpi_numerator", "order_line_id")
    assert 0 < len(rows) <= v.fact_rows
    at.selectbox(key="drill_row_ful_cards").set_value(0).run()
    events = _frame_with(at, "event_id", "source_file", "line_number", "batch_id")
    assert len(events) > 0
    # the picker is clear again: after Close, the same card opens its drill again
    assert at.selectbox(key="drill_card_ful_cards").value is None
    at.button(key="drill_close_ful_cards").click().run()
    assert "kpi_numerator" not in {c for d in at.dataframe for c in d.value.columns}
    at.selectbox(key="drill_card_ful_cards").set_value("unit_fill_rate").run()
    assert len(_frame_with(at, "kpi_numerator", "order_line_id")) == len(rows)
