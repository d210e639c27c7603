"""`opsledger serve`: run the Streamlit app against a home's warehouse (127.0.0.1
unless `--host`; see docs/deployment.md for a team behind a TLS reverse proxy)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from opsledger.autorefresh import DEFAULT_DEBOUNCE
from opsledger.autorefresh import ENV as AUTO_REFRESH_ENV
from opsledger.core.paths import HOME_ENV, resolve_home
from opsledger.core.settings import load_settings
from opsledger.watch import WATCH_LOG

MAIN = Path(__file__).resolve().parent / "main.py"
SECRETS_NAME = ".streamlit-secrets.toml"


def streamlit_command(
    port: int, address: str = "127.0.0.1", secrets_file: Path | None = None
) -> list[str]:
    command = [
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
        # no static folder, XSRF protection on: nothing is served outside the signed-in app
        "--server.enableStaticServing",
        "false",
        "--server.enableXsrfProtection",
        "true",
    ]
    if secrets_file is not None:
        command += ["--secrets.files", str(secrets_file)]
    return command


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_secrets(home: Path | str | None) -> Path | None:
    """Streamlit's secrets file (0600) with the `[auth]` table st.login reads, when
    settings.toml turns OpenID Connect on; None for local sign-in."""
    auth = load_settings(home).streamlit_auth()
    if not auth:
        return None
    path = resolve_home(home) / SECRETS_NAME
    lines = ["[auth]"]
    nested = {k: v for k, v in auth.items() if isinstance(v, dict)}
    lines += [f"{k} = {_toml_value(v)}" for k, v in auth.items() if k not in nested]
    for name, table in nested.items():
        lines += ["", f"[auth.{name}]", *(f"{k} = {_toml_value(v)}" for k, v in table.items())]
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def serve_env(home: Path | str | None, auto_refresh: float | None = None) -> dict[str, str]:
    """The app's environment; `auto_refresh` (debounce seconds) turns on the refresh
    that write-back submissions trigger, None leaves $OPSLEDGER_AUTO_REFRESH as it is."""
    env = dict(os.environ)
    env[HOME_ENV] = str(resolve_home(home))
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    if auto_refresh is not None:
        env[AUTO_REFRESH_ENV] = str(auto_refresh) if auto_refresh > 0 else "off"
    return env


def start_watcher(home: Path) -> subprocess.Popen:
    """`opsledger watch` beside the app: landing files and write-back submissions are
    published while it serves (its log: <home>/watch.log)."""
    log = (resolve_home(home) / WATCH_LOG).open("a", encoding="utf-8")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "opsledger.watch", str(resolve_home(home))],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def stop_watcher(proc: subprocess.Popen) -> None:
    """SIGTERM: the watcher finishes a refresh in flight, then exits."""
    proc.terminate()
    try:
        proc.wait(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()  # publication is atomic: a killed refresh publishes nothing


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(
    home: Path,
    port: int,
    auto_refresh: float = DEFAULT_DEBOUNCE,
    host: str = "127.0.0.1",
    watch: bool = True,
) -> None:
    """Run `streamlit run app/main.py` in the foreground until interrupted, with the
    watcher publishing new data unless `watch` is False."""
    command = streamlit_command(port, host, write_secrets(home))
    # SIGTERM (a service manager, `kill`) stops like Ctrl-C: without this the default
    # handler ends this process at once and leaves Streamlit and the watcher running
    previous = signal.signal(signal.SIGTERM, _interrupt)
    watcher = start_watcher(home) if watch else None
    try:
        # an exception in run() kills Streamlit before it propagates
        completed = subprocess.run(command, env=serve_env(home, auto_refresh), check=False)
    except KeyboardInterrupt:
        return
    finally:
        signal.signal(signal.SIGTERM, previous)
        if watcher is not None:
            stop_watcher(watcher)
    if completed.returncode not in (0, -2, 130):
        raise SystemExit(completed.returncode)
