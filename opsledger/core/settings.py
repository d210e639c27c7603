"""Site settings: `<home>/settings.toml` (optional; every key has a default).

```toml
[auth]
provider = "local"              # "local" (argon2 users, the default) or "oidc"
session_lifetime_minutes = 480  # a signed-in session ends after this long

[auth.oidc]                     # used when provider = "oidc": Streamlit's st.login
redirect_uri = "https://ops.example.com/oauth2callback"
cookie_secret = "a long random string"
client_id = "..."
client_secret = "..."
server_metadata_url = "https://idp.example.com/.well-known/openid-configuration"
username_claim = "preferred_username"  # which claim names the opsledger user

[workbench]
memory_limit = "1GB"            # DuckDB memory limit of each workbench query
max_result_bytes = 67108864     # a result larger than this is refused (64 MiB)
row_limit = 10000
timeout_seconds = 15

[audit]
full_audit_every_hours = 24     # a refresh audits every row (all dbt tests, every GX suite)
                                # when the last full audit is this old; 0: every refresh

[build]
memory_limit = "3GB"            # DuckDB memory limit of a build (refresh, build, watch, serve, demo):
                                # beyond it DuckDB spills to disk where it can; S=16 needs ~6GB
```
Roles stay in the local users store either way: an OIDC identity signs in as the
enabled local user its `username_claim` names.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from opsledger.core.errors import SettingsError
from opsledger.core.paths import HomePaths

SETTINGS_NAME = "settings.toml"
__all__ = [
    "Settings",
    "SettingsError",
    "build_memory_limit",
    "checked_memory_limit",
    "load_settings",
    "settings_path",
]

OIDC_REQUIRED = (
    "redirect_uri",
    "cookie_secret",
    "client_id",
    "client_secret",
    "server_metadata_url",
)


@dataclass(frozen=True)
class Settings:
    provider: str = "local"
    session_lifetime_minutes: float = 480.0
    oidc: dict = field(default_factory=dict)
    username_claim: str = "preferred_username"
    workbench_memory_limit: str = "1GB"
    workbench_max_result_bytes: int = 64 * 1024 * 1024
    workbench_row_limit: int = 10_000
    workbench_timeout_seconds: float = 15.0
    full_audit_every_hours: float = 24.0
    build_memory_limit: str = "3GB"

    def streamlit_auth(self) -> dict:
        """The `[auth]` table of Streamlit's secrets.toml for st.login (empty: local)."""
        if self.provider != "oidc":
            return {}
        return {k: v for k, v in self.oidc.items() if k != "username_claim"}


def settings_path(home: Path | str | None) -> Path:
    return HomePaths.at(home).root / SETTINGS_NAME


def load_settings(home: Path | str | None = None) -> Settings:
    path = settings_path(home)
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    auth = raw.get("auth", {})
    bench = raw.get("workbench", {})
    provider = str(auth.get("provider", "local"))
    if provider not in ("local", "oidc"):
        raise SettingsError(f"{path}: auth.provider is 'local' or 'oidc', not {provider!r}")
    oidc = dict(auth.get("oidc", {}))
    if provider == "oidc":
        missing = [k for k in OIDC_REQUIRED if not oidc.get(k)]
        if missing:
            raise SettingsError(f"{path}: [auth.oidc] needs {', '.join(missing)}")
    lifetime = float(auth.get("session_lifetime_minutes", Settings.session_lifetime_minutes))
    if lifetime <= 0:
        raise SettingsError(f"{path}: auth.session_lifetime_minutes must be above 0")
    every = raw.get("audit", {}).get("full_audit_every_hours", Settings.full_audit_every_hours)
    if isinstance(every, bool) or not isinstance(every, int | float) or every < 0:
        raise SettingsError(f"{path}: audit.full_audit_every_hours is a number of hours >= 0")
    return Settings(
        provider=provider,
        session_lifetime_minutes=lifetime,
        oidc=oidc,
        username_claim=str(oidc.get("username_claim", Settings.username_claim)),
        workbench_memory_limit=str(bench.get("memory_limit", Settings.workbench_memory_limit)),
        workbench_max_result_bytes=int(
            bench.get("max_result_bytes", Settings.workbench_max_result_bytes)
        ),
        workbench_row_limit=int(bench.get("row_limit", Settings.workbench_row_limit)),
        workbench_timeout_seconds=float(
            bench.get("timeout_seconds", Settings.workbench_timeout_seconds)
        ),
        full_audit_every_hours=float(every),
        build_memory_limit=checked_memory_limit(
            raw.get("build", {}).get("memory_limit", Settings.build_memory_limit),
            f"{path}: build.memory_limit",
        ),
    )


# DuckDB's own spelling of a size (its memory_limit setting), whole or decimal units
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*$", re.IGNORECASE)


def checked_memory_limit(value: object, what: str = "memory limit") -> str:
    """A DuckDB memory limit such as "3GB" or "6 GiB"; SettingsError otherwise."""
    if not isinstance(value, str) or not _SIZE.match(value):
        raise SettingsError(f'{what} is a size such as "3GB" or "6 GiB", not {value!r}')
    return value.strip()


def build_memory_limit(settings: Settings, override: str | None = None) -> str:
    """The memory limit of a build: `override` (checked) when given, else the
    settings' `[build] memory_limit`."""
    if override is None:
        return settings.build_memory_limit
    return checked_memory_limit(override, "the memory limit")
