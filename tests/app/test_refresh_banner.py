"""A failed refresh is visible: a banner on every page (when, which stage, what
failed, how to see it, which publication is shown instead) and `opsledger status`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from opsledger.refresh import run_refresh
from opsledger.status import read_status
from tests.app.conftest import session_for
from tests.opsledger.hostile_home import write_base

pytestmark = pytest.mark.slow

MAIN = "../../app/main.py"  # from_file resolves it relative to this file


def _app(home: Path, monkeypatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("OPSLEDGER_HOME", str(home))
    at = AppTest.from_file(MAIN, default_timeout=180)
    at.session_state["wb_session"] = session_for(home, "admin")  # the banner is data too
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    return at


def test_failed_refresh_shows_a_banner_on_every_page_and_in_status(tmp_path, monkeypatch):
    home = tmp_path / "home"
    write_base(home)
    good = run_refresh(home)
    assert good.published
    assert not _app(home, monkeypatch).error  # no banner after a good refresh

    # the raw layer is damaged (a disk fault): the next refresh fails in ingest
    raw = home / "raw.duckdb"
    shutil.copyfile(raw, tmp_path / "raw.bak")
    raw.write_bytes(b"not a database" * 1000)
    with pytest.raises(Exception):  # noqa: B017 - whatever DuckDB raises
        run_refresh(home)

    status = read_status(home)
    last = status["last_refresh"]
    assert (last["status"], last["stage"], last["published"]) == ("error", "ingest", False)
    assert last["finished_at"] and "ingest failed" in last["message"]
    assert last["showing_instead"] == good.build_id == status["published"]["build_id"]

    # main.py draws the banner before it runs the chosen page, so every page shows it;
    # AppTest's switch_page runs a page without main.py, hence the entry page only
    for page in (None,):
        at = _app(home, monkeypatch, page)
        banner = [e.value for e in at.error]
        assert len(banner) == 1, banner
        assert "The last refresh failed" in banner[0]
        assert "stage ingest" in banner[0]
        assert good.build_id in banner[0]  # the publication shown instead
        assert "opsledger status" in banner[0]
        assert any("last refresh FAILED" in c.value for c in at.sidebar.caption)

    # repaired: raw is again what the publication holds, so the next refresh finds
    # nothing new, keeps it, and the banner is gone
    shutil.copyfile(tmp_path / "raw.bak", raw)
    repaired = run_refresh(home)
    assert (repaired.status, repaired.current) == ("unchanged", True), repaired.to_dict()
    assert read_status(home)["last_refresh"]["current"] is True
    assert not _app(home, monkeypatch).error
