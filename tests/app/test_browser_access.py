"""Real browser (Debian's chromium + playwright): sign-in before any data.

Signed out, every page URL opened directly shows the sign-in form and no data (no
table, chart, metric or number); a planner is refused the SQL workbench; an analyst
sees no raw schema (schema browser, queries, Data quality)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsledger import writeback as wb
from tests.app.browser import (
    ARTIFACTS,
    CHROMIUM,
    browser_page,
    goto,
    no_exception,
    running_app,
    settle,
    sign_in,
)

if not CHROMIUM.exists():
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

pytestmark = pytest.mark.slow

# url path of every page (the default page is also "/")
PAGE_PATHS = [
    "",
    "overview",
    "inventory",
    "returns",
    "fulfillment",
    "finance",
    "replenishment",
    "quality",
    "workbench",
    "docs",
    "submit",
    "approvals",
    "audit",
    "signin",
]
DATA_TEST_IDS = (
    "stDataFrame",
    "stTable",
    "stMetric",
    "stPlotlyChart",
    "stVegaLiteChart",
    "stArrowVegaLiteChart",
    "stDownloadButton",
    "stSidebarNav",
    "stTextArea",
)
PASSWORD = "access-test-pw"


@pytest.fixture(scope="module")
def access_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the real pipeline's published warehouse with planner, analyst, admin."""
    source = request.getfixturevalue(os.environ.get("OPSLEDGER_APP_BROWSER_HOME", "app_home"))
    home = tmp_path_factory.mktemp("access-home")
    shutil.copyfile(source / "warehouse.duckdb", home / "warehouse.duckdb")
    for role in ("planner", "analyst", "admin"):
        wb.users_add(home, role, role, PASSWORD)
    return home


@pytest.fixture(scope="module")
def server(access_home: Path) -> Iterator[str]:
    with running_app(access_home, "streamlit-access.log") as url:
        yield url


def assert_sign_in_only(pg, where: str) -> None:
    pg.get_by_role("heading", name="Sign in", level=1).wait_for()
    settle(pg)
    no_exception(pg)
    for test_id in DATA_TEST_IDS:
        assert pg.get_by_test_id(test_id).count() == 0, f"{where}: {test_id} shown signed out"
    text = pg.get_by_test_id("stMain").inner_text()
    assert not re.search(r"\d", text), f"{where}: a number is shown signed out: {text!r}"
    sidebar = pg.get_by_test_id("stSidebar")
    if sidebar.count():
        assert not re.search(r"\d", sidebar.inner_text()), f"{where}: numbers in the sidebar"


def test_signed_out_every_page_url_shows_only_the_sign_in(server: str) -> None:
    with browser_page(server) as pg:
        for path in PAGE_PATHS:
            pg.goto(f"{server}/{path}")
            assert_sign_in_only(pg, f"/{path}")
        pg.screenshot(path=str(ARTIFACTS / "signed_out.png"), full_page=True)
        # signing in and out again: every page is closed again
        sign_in(pg, "admin", PASSWORD)
        goto(pg, "Overview")
        assert pg.get_by_test_id("stMetric").count() > 0  # the data is there when signed in
        goto(pg, "Sign in")
        pg.get_by_role("button", name="Sign out").click()
        assert_sign_in_only(pg, "after sign-out")
        for path in ("overview", "workbench", "audit", "quality"):
            pg.goto(f"{server}/{path}")
            assert_sign_in_only(pg, f"/{path} after sign-out")


@pytest.mark.parametrize("path", ["finance", "workbench"])
def test_a_page_url_as_a_fresh_servers_first_request_shows_only_the_sign_in(
    access_home: Path, path: str
) -> None:
    """The first request a server gets decides how Streamlit routes it: with a pages/
    folder beside app/main.py it ran that page script directly, without the guard."""
    with running_app(access_home, f"streamlit-first-{path}.log") as url, browser_page(url) as pg:
        pg.goto(f"{url}/{path}")
        assert_sign_in_only(pg, f"/{path} as the first request")


def test_a_planner_is_refused_the_workbench(server: str) -> None:
    with browser_page(server) as pg:
        sign_in(pg, "planner", PASSWORD)
        goto(pg, "SQL workbench")  # in the session: a new URL is a new, signed-out session
        pg.get_by_text("cannot open SQL workbench").wait_for()
        settle(pg)
        assert pg.get_by_test_id("stTextArea").count() == 0
        assert pg.get_by_test_id("stDataFrame").count() == 0
        pg.screenshot(path=str(ARTIFACTS / "planner_workbench.png"), full_page=True)


def test_an_analyst_sees_no_raw_schema(server: str) -> None:
    with browser_page(server) as pg:
        sign_in(pg, "analyst", PASSWORD)
        goto(pg, "SQL workbench")
        box = pg.get_by_test_id("stSelectbox").filter(has_text="Table")
        box.click()
        pg.keyboard.type("raw.")
        pg.wait_for_timeout(500)
        options = [o.inner_text() for o in pg.get_by_role("option").all()]
        assert not [o for o in options if o.startswith("raw.")], options
        pg.keyboard.press("Escape")
        editor = pg.get_by_label("SQL", exact=True)
        editor.fill("select * from raw.quarantine")
        pg.get_by_role("button", name="Run").click()
        pg.get_by_text("your role may not read raw.quarantine").first.wait_for()
        editor.fill("select count(*) as n from marts.dim_sku")
        pg.get_by_role("button", name="Run").click()
        pg.get_by_text("1 rows in").first.wait_for()  # the history lists it too
        settle(pg)
        no_exception(pg)
        pg.screenshot(path=str(ARTIFACTS / "analyst_workbench.png"), full_page=True)
        goto(pg, "Data quality")
        assert pg.get_by_text("shown to admins only").count() == 1
        assert pg.get_by_role("heading", name="Quarantine").count() == 0
