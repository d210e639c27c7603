"""`opsledger serve`: run the Streamlit app on 127.0.0.1 against a home's warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from opsledger.autorefresh import DEFAULT_DEBOUNCE
from opsledger.autorefresh import ENV as AUTO_REFRESH_ENV
from opsledger.paths import HOME_ENV, resolve_home

MAIN = Path(__file__).resolve().parent / "main.py"


def streamlit_command(port: int, address: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(MAIN),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]


def serve_env(home: Path | str | None, auto_refresh: float | None = None) -> dict[str, str]:
    """The app's environment; `auto_refresh` (debounce seconds) turns on the refresh
    that write-back submissions trigger, None leaves $OPSLEDGER_AUTO_REFRESH as it is."""
    env = dict(os.environ)
    env[HOME_ENV] = str(resolve_home(home))
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    if auto_refresh is not None:
        env[AUTO_REFRESH_ENV] = str(auto_refresh) if auto_refresh > 0 else "off"
    return env


def serve(home: Path, port: int, auto_refresh: float = DEFAULT_DEBOUNCE) -> None:
    """Run `streamlit run app/main.py` in the foreground until interrupted."""
    command = streamlit_command(port)
    try:
        completed = subprocess.run(command, env=serve_env(home, auto_refresh), check=False)
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2, 130):
        raise SystemExit(completed.returncode)
