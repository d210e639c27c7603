"""Real browser: on every dashboard page, drill from a KPI card, a chart point and a
table row to the fact rows behind the value, and from a fact row to its raw events.
Runs on the warehouse dbt built (conftest.app_home)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.browser import (
    ARTIFACTS,
    CHROMIUM,
    browser_page,
    goto,
    no_exception,
    running_app,
    settle,
    sign_in_as,
)

if not CHROMIUM.exists():
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

pytestmark = pytest.mark.slow

DASHBOARDS = ["Overview", "Inventory", "Returns", "Fulfillment", "Finance", "Replenishment"]


@pytest.fixture(scope="module")
def server(app_home: Path) -> Iterator[str]:
    with running_app(app_home, "streamlit_drill.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str, app_home: Path):
    with browser_page(server) as pg:
        sign_in_as(pg, app_home, "drill_admin", "admin", "drill-admin-pw")  # no data before
        yield pg


def _panels(pg) -> int:
    return pg.get_by_text("Drill-through:", exact=False).count()


def _wait_panels(pg, at_least: int) -> None:
    pg.wait_for_function(
        "n => [...document.querySelectorAll('h4')]"
        ".filter(h => h.innerText.startsWith('Drill-through:')).length >= n",
        arg=at_least,
    )
    settle(pg)
    no_exception(pg)
    assert pg.get_by_text("Fact rows:", exact=False).count() >= 1


def _pick(pg, label: str, option: int = 1) -> None:
    box = pg.get_by_test_id("stSelectbox").filter(has_text=label).first
    box.scroll_into_view_if_needed()
    # the combobox's "Open" button lists the options (a locator: re-resolved after a rerun)
    box.get_by_role("button", name="Open").click()
    pg.get_by_role("option").nth(option).click()
    settle(pg)


@pytest.mark.parametrize("title", DASHBOARDS)
def test_drill_from_card_chart_and_table(page, title: str) -> None:
    goto(page, title)
    no_exception(page)
    # a card
    _pick(page, "Drill into a card")
    _wait_panels(page, 1)
    # from a fact row to its events
    _pick(page, "Events of fact row")
    page.get_by_text("Raw events (", exact=False).first.wait_for()
    no_exception(page)
    page.get_by_role("button", name="Close").first.click()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('h4')]"
        ".some(h => h.innerText.startsWith('Drill-through:'))"
    )
    settle(page)
    # a chart point, then a table row
    _pick(page, "Drill into a point of the chart")
    _wait_panels(page, 1)
    before = page.locator("h4", has_text="Drill-through:").count()
    _pick(page, "Drill into a row of the table")
    _wait_panels(page, before + 1)
    page.screenshot(path=str(ARTIFACTS / f"drill_{title.lower()}.png"), full_page=True)
