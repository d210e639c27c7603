"""Real browser, write-back end to end: a warehouse lead signs in, submits a disposition
for an inspected return line, and sees it applied. The app runs as `opsledger serve`
does, with the debounced auto-refresh on, so nothing but the submission triggers the
refresh that applies it; the published mart then shows the disposed units."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from opsledger import writeback as wb
from opsledger.models import load_domain
from opsledger.writeback import warehouse as wb_warehouse
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
from tests.app.writeback_home import inspected_copy, query

if not CHROMIUM.exists():
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

pytestmark = pytest.mark.slow

PASSWORD = "lead-browser-password"


@pytest.fixture(scope="module")
def wb_home(real_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = inspected_copy(real_home, tmp_path_factory.mktemp("wb-browser") / "home")
    wb.users_add(home, "lead", "warehouse_lead", PASSWORD)
    return home


def _disposed(home: Path, return_line_id: str) -> int:
    rows = query(
        home,
        "select coalesce(qty_disposed, 0) from marts.fct_return_lines where return_line_id = ?",
        [return_line_id],
    )
    return int(rows[0][0])


def test_lead_signs_in_submits_a_disposition_and_sees_it_applied(wb_home: Path) -> None:
    with wb_warehouse.read(wb_home) as con:
        line = wb_warehouse.open_return_lines(con)[0]  # the form's default selection
    allowed = load_domain().allowed_dispositions(line["product_class"] or "unknown")
    disposition = allowed[0]
    before = _disposed(wb_home, line["return_line_id"])

    with (
        running_app(wb_home, "streamlit-writeback.log", auto_refresh=1.0) as url,
        browser_page(url) as pg,
    ):
        sign_in(pg, "lead", PASSWORD)

        goto(pg, "Submit")
        no_exception(pg)
        pg.get_by_label(disposition, exact=True).fill("1")
        pg.get_by_label("Note (why)").fill("browser test: one unit")
        pg.get_by_role("button", name="Submit disposition").click()
        submitted = time.monotonic()
        alert = pg.get_by_text(re.compile(r"Submitted wb-[0-9a-f]+"))
        alert.wait_for()
        submission_id = re.search(r"wb-[0-9a-f]+", alert.inner_text()).group(0)
        pg.get_by_text("A refresh was requested").wait_for()
        pg.screenshot(path=str(ARTIFACTS / "writeback_submitted.png"), full_page=True)

        # the lead's own list turns from approved/exported to applied, no one else acts
        applied = pg.get_by_text(re.compile(rf"{submission_id}\s*·\s*applied"))
        deadline = time.monotonic() + 900
        while applied.count() == 0 and time.monotonic() < deadline:
            pg.wait_for_timeout(3000)
            pg.get_by_role("button", name="Check again").click()
            settle(pg)
        assert applied.count() >= 1, (wb_home / "autorefresh.log").read_text()
        print(f"\nbrowser: submit -> shown as applied after {time.monotonic() - submitted:.1f}s")
        no_exception(pg)
        pg.screenshot(path=str(ARTIFACTS / "writeback_applied.png"), full_page=True)

    assert _disposed(wb_home, line["return_line_id"]) == before + 1
    status = {s["submission_id"]: s for s in wb.submission_status(wb_home)}[submission_id]
    assert status["status"] == "applied" and status["applied_at"]
