"""Real browser: Debian's chromium driven by playwright against `streamlit run app/main.py`.

Opens every page, applies a filter (the number changes as the marts say), runs a query
in the workbench and downloads a CSV. Screenshots go to test-artifacts/ (gitignored).
Skips only when /usr/bin/chromium or the playwright package is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from app.serve import serve_env, streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
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
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright Python package is not installed"
)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def browser_home(request: pytest.FixtureRequest) -> Path:
    """The real pipeline's published warehouse, or the hand-built fixture until the
    pipeline publishes (conftest.published_home); OPSLEDGER_APP_BROWSER_HOME=fixture_home
    forces the fixture."""
    return request.getfixturevalue(os.environ.get("OPSLEDGER_APP_BROWSER_HOME", "published_home"))


@pytest.fixture(scope="module")
def server(browser_home: Path) -> Iterator[str]:
    port = _free_port()
    log = (
        (ARTIFACTS / "streamlit.log").open("w") if ARTIFACTS.mkdir(exist_ok=True) is None else None
    )
    proc = subprocess.Popen(
        streamlit_command(port),
        cwd=ROOT,
        env=serve_env(browser_home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}; see {ARTIFACTS}")
        else:
            pytest.fail("streamlit did not become healthy in 90 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            log.close()


@pytest.fixture(scope="module")
def page(server: str):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        context = browser.new_context(
            viewport={"width": 1500, "height": 1100}, accept_downloads=True
        )
        pg = context.new_page()
        pg.set_default_timeout(120_000)
        pg.goto(server)
        yield pg
        context.close()
        browser.close()


def _settle(pg) -> None:
    """Wait until Streamlit finished the run (no running indicator)."""
    pg.wait_for_timeout(500)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')",
        timeout=120_000,
    )
    pg.wait_for_timeout(500)


def _goto(pg, title: str) -> None:
    pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    pg.get_by_role("heading", name=title, level=1).wait_for()
    _settle(pg)


def _no_exception(pg) -> None:
    assert pg.get_by_test_id("stException").count() == 0, pg.get_by_test_id(
        "stException"
    ).first.inner_text()


def _metric(pg, label: str) -> str:
    card = pg.get_by_test_id("stMetric").filter(has_text=label).first
    return card.get_by_test_id("stMetricValue").inner_text().strip()


def test_every_page_renders(page) -> None:
    for title in PAGES:
        _goto(page, title)
        _no_exception(page)
        slug = re.sub(r"[^a-z]+", "_", title.lower())
        page.screenshot(path=str(ARTIFACTS / f"page_{slug}.png"), full_page=True)


def test_filter_changes_fill_rate(page, browser_home: Path) -> None:
    _goto(page, "Fulfillment")
    before = _metric(page, "Unit fill rate")
    con = duckdb.connect(str(browser_home / "warehouse.duckdb"), read_only=True)
    channel = con.execute(
        "select channel from marts.fct_order_lines group by 1 order by count(*) limit 1"
    ).fetchone()[0]
    num, den = con.execute(
        "select sum(qty_shipped_on_time), sum(qty_ordered - qty_cancelled)"
        " from marts.fct_order_lines where channel = ?",
        [channel],
    ).fetchone()
    con.close()
    expected = f"{float(num) / float(den):.1%}"
    box = (
        page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Channel")
    )
    box.click()
    page.get_by_role("option", name=channel, exact=True).click()
    page.keyboard.press("Escape")
    _settle(page)
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
    _goto(page, "Inventory")
    assert page.get_by_test_id("stSidebar").get_by_text(channel, exact=True).count() >= 1


def test_workbench_query_and_csv(page) -> None:
    _goto(page, "SQL workbench")
    editor = page.get_by_label("SQL", exact=True)
    editor.fill("select * from read_text('/etc/passwd')")
    page.get_by_role("button", name="Run").click()
    page.get_by_text("read_text would read files").wait_for()
    editor.fill("select sku, category from marts.dim_sku order by sku limit 5")
    page.get_by_role("button", name="Run").click()
    page.get_by_text("5 rows in").wait_for()
    _settle(page)
    _no_exception(page)
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
