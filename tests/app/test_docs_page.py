"""AppTest: the Docs page serves the dbt docs site and the GX Data Docs of the last
publication to a signed-in user, refuses a signed-out one, and the Data quality and
SQL workbench pages link to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.test_pages import no_errors, open_app

DOCS = "docs"


def _iframes(at) -> list:
    return at.get("iframe")


def test_docs_page_serves_both_sites(real_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(real_home, monkeypatch, DOCS, role="planner")  # `view` is enough
    no_errors(at)
    assert at.title[0].value == "Docs"
    assert [t.label for t in at.tabs] == ["dbt docs and lineage", "Data Docs (Great Expectations)"]
    frames = _iframes(at)
    assert len(frames) == 2, [type(f).__name__ for f in frames]
    # the dbt site is served whole: the static page with its manifest embedded
    site = (real_home / "dbt_docs" / "index.html").read_text(encoding="utf-8")
    assert frames[0].proto.srcdoc == site
    assert "fct_order_lines" in frames[0].proto.srcdoc


def test_docs_page_without_a_publication(empty_home: Path, monkeypatch) -> None:
    at = open_app(empty_home, monkeypatch, DOCS)
    no_errors(at)
    infos = " ".join(i.value for i in at.info)
    assert "No dbt docs site" in infos and "opsledger refresh" in infos
    assert _iframes(at) == []


def test_docs_page_refuses_a_signed_out_user(real_home: Path, monkeypatch) -> None:
    """Signed out, the app's guard shows the sign-in form instead of the page."""
    at = open_app(real_home, monkeypatch, DOCS, role=None)
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert _iframes(at) == []
    assert not at.tabs


@pytest.mark.parametrize("page", ["quality", "workbench"])
def test_quality_and_workbench_link_the_docs(real_home: Path, page: str, monkeypatch) -> None:
    at = open_app(real_home, monkeypatch, page)
    no_errors(at)
    links = [link for link in at.get("page_link") if link.proto.page == "docs"]
    assert links, [link.proto for link in at.get("page_link")]
