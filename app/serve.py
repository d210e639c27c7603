"""`opsledger serve`: run the Streamlit app on 127.0.0.1 against a home's warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def serve_env(home: Path | str | None) -> dict[str, str]:
    env = dict(os.environ)
    env[HOME_ENV] = str(resolve_home(home))
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def serve(home: Path, port: int) -> None:
    """Run `streamlit run app/main.py` in the foreground until interrupted."""
    command = streamlit_command(port)
    try:
        completed = subprocess.run(command, env=serve_env(home), check=False)
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2, 130):
        raise SystemExit(completed.returncode)
