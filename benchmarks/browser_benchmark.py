"""What a user waits for: each dashboard page rendered and idle in a real browser.

    .venv/bin/python -m benchmarks.browser_benchmark --home DIR [--repeat 5]

Starts `opsledger serve`'s Streamlit command on a free port and drives Debian's
chromium with playwright (never `playwright install`). A sample is a click on the
page's entry in the navigation until the page's title is shown and Streamlit's status
widget (the "running" indicator) is gone, with no stale element left.

- cold: the first visit of the page in a fresh server process (empty st.cache_data;
  a landing page was rendered first: Overview, or Replenishment for Overview itself);
  the first page after signing in (sign-in check included) is printed apart;
- warm: later visits, after a visit to another page.

Targets at S=1: 1.0 s warm, 2.0 s cold. Prints p50 and max per page in seconds.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opsledger.app.serve import serve_env, streamlit_command  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PAGES = ["Overview", "Inventory", "Returns", "Fulfillment", "Finance", "Replenishment"]
IDLE = (
    "t => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
    " && !document.querySelector('[data-stale=\"true\"]')"
    " && [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === t)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(home: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        streamlit_command(port),
        cwd=ROOT,
        env=serve_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise SystemExit("streamlit did not become healthy in 120 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def browser(url: str) -> Iterator:
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        ctx = b.new_context(viewport={"width": 1500, "height": 1100})
        pg = ctx.new_page()
        pg.set_default_timeout(300_000)
        try:
            yield pg
        finally:
            ctx.close()
            b.close()


def wait_idle(pg, title: str) -> None:
    # the status widget shows up shortly after a run starts: give it the chance
    pg.wait_for_timeout(50)
    pg.wait_for_function(IDLE, arg=title, polling=20)


def benchmark_user(home: Path) -> tuple[str, str]:
    """A fresh executive (view only) of the home's user store to sign in as, with a
    random password (stored hashed like any user's); disabled when the run ends."""
    from opsledger import writeback as wb

    username, password = f"browser-benchmark-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    wb.users_add(home, username, "executive", password)
    return username, password


def landing(pg, url: str, user: tuple[str, str], title: str = "Overview") -> float:
    """Sign in (data is shown to signed-in users only) on the page `title`; timed from
    the sign-in click (the argon2 check included) until that page is rendered and idle."""
    pg.goto(f"{url}/{title.lower()}" if title != "Overview" else url)
    pg.get_by_role("heading", name="Sign in", level=1).wait_for()
    pg.get_by_label("Username", exact=True).fill(user[0])
    pg.get_by_label("Password", exact=True).fill(user[1])
    started = time.perf_counter()
    pg.get_by_role("button", name="Sign in").click()
    wait_idle(pg, title)
    return time.perf_counter() - started


def visit(pg, title: str) -> float:
    started = time.perf_counter()
    pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    wait_idle(pg, title)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5, help="warm samples per page")
    parser.add_argument("--pages", nargs="*", default=PAGES)
    args = parser.parse_args(argv)
    if not (args.home / "warehouse.duckdb").exists():
        print(f"no warehouse in {args.home}", file=sys.stderr)
        return 2
    from opsledger import writeback as wb

    user = benchmark_user(args.home)
    try:
        cold: dict[str, float] = {}
        signin: float | None = None
        for title in args.pages:  # one fresh server per page: its first visit is cold
            with server(args.home) as url, browser(url) as pg:
                if title == "Overview":  # the first page after signing in
                    signin = landing(pg, url, user)
                    continue
                landing(pg, url, user)
                cold[title] = visit(pg, title)
        # Overview's cold visit measured like the others': after another landing page
        if "Overview" in args.pages:
            with server(args.home) as url, browser(url) as pg:
                landing(pg, url, user, "Replenishment")
                cold["Overview"] = visit(pg, "Overview")
        warm: dict[str, list[float]] = {t: [] for t in args.pages}
        with server(args.home) as url, browser(url) as pg:
            landing(pg, url, user)
            for title in args.pages:  # fill the cache once
                visit(pg, title)
            for _ in range(args.repeat):
                for title in args.pages:
                    other = next(p for p in PAGES if p != title)
                    visit(pg, other)
                    warm[title].append(visit(pg, title))
    finally:
        wb.users_disable(args.home, user[0])
    print(f"browser benchmark on {args.home} ({args.repeat} warm samples per page)")
    if signin is not None:
        print(f"sign-in click -> Overview rendered, fresh server: {signin:.2f} s")
    print(f"{'page':<15}{'cold s':>8}{'warm p50 s':>12}{'warm max s':>12}")
    for title in args.pages:
        w = warm[title]
        print(f"{title:<15}{cold[title]:>8.2f}{statistics.median(w):>12.2f}{max(w):>12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
