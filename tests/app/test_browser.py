"""Real browser: Debian's chromium driven by playwright against `streamlit run app/main.py`.

Opens every page, applies a filter (the number changes as the marts say), runs a query
in the workbench and downloads a CSV. Screenshots go to test-artifacts/ (gitignored).
Skips only when /usr/bin/chromium or the playwright package is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsledger.readonly import connect_read_only
from tests.app.browser import (
    ARTIFACTS,
    CHROMIUM,
    ROOT,
    browser_page,
    goto,
    no_exception,
    running_app,
    settle,
    sign_in_as,
)

PAGES = [
    "Overview",
    "Inventory",
    "Returns",
    "Fulfillment",
    "Finance",
    "Replenishment",
    "Data quality",
    "SQL workbench",
]

if not CHROMIUM.exists():
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser_home(request: pytest.FixtureRequest) -> Path:
    """A writable copy of the real pipeline's published home (conftest.app_home);
    OPSLEDGER_APP_BROWSER_HOME names another fixture."""
    return request.getfixturevalue(os.environ.get("OPSLEDGER_APP_BROWSER_HOME", "app_home"))


@pytest.fixture(scope="module")
def server(browser_home: Path) -> Iterator[str]:
    with running_app(browser_home, "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str, browser_home: Path):
    with browser_page(server) as pg:
        sign_in_as(pg, browser_home, "browser_admin", "admin", "browser-admin-pw")
        yield pg


def _metric(pg, label: str) -> str:
    card = pg.get_by_test_id("stMetric").filter(has_text=label).first
    return card.get_by_test_id("stMetricValue").inner_text().strip()


def test_every_page_renders(page) -> None:
    for title in PAGES:
        goto(page, title)
        no_exception(page)
        slug = re.sub(r"[^a-z]+", "_", title.lower())
        page.screenshot(path=str(ARTIFACTS / f"page_{slug}.png"), full_page=True)


def test_filter_changes_fill_rate(page, browser_home: Path) -> None:
    goto(page, "Fulfillment")
    before = _metric(page, "Unit fill rate")
    con = connect_read_only(browser_home / "warehouse.duckdb")
    channel = con.execute(
        "select channel from marts.fct_order_lines group by 1 order by count(*) limit 1"
    ).fetchone()[0]
    num, den = con.execute(
        "select sum(qty_shipped_on_time), sum(qty_ordered - qty_cancelled)"
        " from marts.fct_order_lines where channel = ?"
        # the governed definition (models/kpis.yml): lines due by the data's as-of day
        " and cast(promised_by as date) <= (select as_of_date from marts.kpi_as_of)",
        [channel],
    ).fetchone()
    con.close()
    expected = f"{float(num) / float(den):.1%}"
    box = (
        page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Channel")
    )
    # a box at the bottom of the viewport opens no list: centre it first (the sidebar's
    # height depends on the home's path, which it shows)
    box.evaluate("e => e.scrollIntoView({block: 'center'})")
    box.click()
    page.get_by_role("option", name=channel, exact=True).click()
    page.keyboard.press("Escape")
    settle(page)
    page.wait_for_function(
        "([label, want]) => [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".some(m => m.innerText.includes(label) && m.innerText.includes(want))",
        arg=["Unit fill rate", expected],
    )
    assert _metric(page, "Unit fill rate") == expected
    page.screenshot(path=str(ARTIFACTS / "filter_fulfillment.png"), full_page=True)
    if before != expected:
        assert _metric(page, "Unit fill rate") != before
    # the filter persists on another page
    goto(page, "Inventory")
    assert page.get_by_test_id("stSidebar").get_by_text(channel, exact=True).count() >= 1


def test_workbench_query_and_csv(page) -> None:
    goto(page, "SQL workbench")
    editor = page.get_by_label("SQL", exact=True)
    editor.fill("select * from read_text('/etc/passwd')")
    page.get_by_role("button", name="Run").click()
    page.get_by_text("read_text would read files").wait_for()
    editor.fill("select sku, category from marts.dim_sku order by sku limit 5")
    page.get_by_role("button", name="Run").click()
    page.get_by_text("5 rows in").first.wait_for()
    settle(page)
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "workbench.png"), full_page=True)
    buttons = page.get_by_role("button", name=re.compile("Download CSV"))
    with page.expect_download() as info:
        buttons.nth(1).click()  # 0 is the schema browser's columns, 1 the query result
    target = ARTIFACTS / "query_result.csv"
    info.value.save_as(str(target))
    lines = target.read_text(encoding="utf-8").strip().splitlines()
    assert lines[0] == "sku,category"
    assert len(lines) == 6


def test_artifacts_dir_is_ignored() -> None:
    if shutil.which("git") is None:
        pytest.skip("git not available")
    out = subprocess.run(
        ["git", "check-ignore", "test-artifacts/x.png"], cwd=ROOT, capture_output=True, check=False
    )
    assert out.returncode == 0
