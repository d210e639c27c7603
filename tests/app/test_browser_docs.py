"""Real browser: the Docs page shows the dbt docs site (its model tree and lineage
graph) inside the app; the site opened as a file (`opsledger docs --open`) renders
with the network cut off and asks it for nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.browser import ARTIFACTS, browser_page, goto, no_exception, running_app, sign_in_as


@pytest.fixture(scope="module")
def server(real_home: Path) -> Iterator[str]:
    with running_app(real_home, "streamlit-docs.log") as url:
        yield url


def test_docs_page_shows_the_dbt_site_offline(server: str, real_home: Path) -> None:
    with browser_page(server) as pg:
        sign_in_as(pg, real_home, "docs_reader", "planner", "docs-reader-pw")
        goto(pg, "Docs")
        no_exception(pg)
        site = pg.frame_locator("iframe").first
        # the docs app built its project tree from the embedded manifest
        site.get_by_text("fct_order_lines").first.wait_for(state="attached", timeout=120_000)
        # a model's page (the docs app routes on the hash, also inside the iframe)
        site.locator("body").evaluate(
            "() => { location.hash = '#!/model/model.opsledger.fct_order_lines' }"
        )
        site.get_by_text("net_revenue").first.wait_for()
        pg.screenshot(path=str(ARTIFACTS / "docs_dbt.png"), full_page=True)
        # its lineage graph opens from the button at the bottom right
        # (dispatched: the fixed button sits in the iframe's corner, under the page's fold)
        site.locator("[title='View Lineage Graph']").dispatch_event("click")
        site.locator(".launcher canvas").first.wait_for(timeout=60_000)
        pg.screenshot(path=str(ARTIFACTS / "docs_lineage.png"), full_page=True)
        # the Data Docs' assets are expectations/' to vendor (their index only is checked here)
        pg.get_by_role("tab", name="Data Docs (Great Expectations)").click()
        pg.frame_locator("iframe").nth(1).get_by_text("Expectation Suites").first.wait_for(
            state="attached", timeout=60_000
        )
        no_exception(pg)


def test_dbt_site_opened_as_a_file_renders_offline(real_home: Path) -> None:
    site = real_home / "dbt_docs" / "index.html"
    with browser_page("about:blank") as pg:
        asked: list[str] = []
        pg.route(
            lambda url: url.startswith(("http:", "https:")),
            lambda route: (asked.append(route.request.url), route.abort()),
        )
        pg.goto(site.as_uri() + "#!/model/model.opsledger.fct_order_lines")
        pg.get_by_text("net_revenue").first.wait_for(timeout=60_000)
        pg.locator("[title='View Lineage Graph']").click()
        pg.locator(".launcher canvas").first.wait_for(timeout=60_000)
        assert asked == []
