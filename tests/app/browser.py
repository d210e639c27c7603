"""Shared plumbing of the real-browser tests: `streamlit run` on a free port, Debian's
chromium driven by playwright (never `playwright install`), and page helpers."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from opsledger.app.serve import serve_env, streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(home: Path, log_name: str, auto_refresh: float | None = None) -> Iterator[str]:
    """`opsledger serve`'s command and environment on a free port; yields the URL."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    with (ARTIFACTS / log_name).open("w") as log:
        proc = subprocess.Popen(
            streamlit_command(port),
            cwd=ROOT,
            env=serve_env(home, auto_refresh),
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


@contextmanager
def browser_page(url: str) -> Iterator:
    from playwright import sync_api

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
        pg.set_default_timeout(300_000)  # a cold first page on a busy CI machine
        pg.goto(url)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def settle(pg) -> None:
    """Wait until Streamlit finished the run (no running indicator)."""
    pg.wait_for_timeout(500)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')",
        timeout=300_000,
    )
    pg.wait_for_timeout(500)


def goto(pg, title: str) -> None:
    pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    pg.get_by_role("heading", name=title, level=1).wait_for()
    settle(pg)


def no_exception(pg) -> None:
    assert pg.get_by_test_id("stException").count() == 0, pg.get_by_test_id(
        "stException"
    ).first.inner_text()


def sign_in(pg, username: str, password: str) -> None:
    """Signed out, any page URL shows the sign-in form: fill it and wait for the menu."""
    pg.get_by_role("heading", name="Sign in", level=1).wait_for()
    pg.get_by_label("Username", exact=True).fill(username)
    pg.get_by_label("Password", exact=True).fill(password)
    pg.get_by_role("button", name="Sign in").click()
    pg.get_by_test_id("stSidebarNav").wait_for()


def sign_in_as(pg, home: Path, username: str, role: str, password: str) -> None:
    """Sign in as a user of `role`, adding the user to the home's store first if needed."""
    from opsledger import writeback as wb

    if wb.get_user(home, username) is None:
        wb.users_add(home, username, role, password)
    sign_in(pg, username, password)
