"""Where things live under an opsledger home directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opsledger.core.environment import HOME_ENV, environment

__all__ = ["DEFAULT_HOME", "HOME_ENV", "HomePaths", "resolve_home"]

DEFAULT_HOME = Path("data")


def resolve_home(home: Path | str | None = None) -> Path:
    """--home wins, then $OPSLEDGER_HOME, then ./data."""
    chosen = home or environment().home or DEFAULT_HOME
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class HomePaths:
    root: Path

    @classmethod
    def at(cls, home: Path | str | None = None) -> HomePaths:
        return cls(resolve_home(home))

    @property
    def landing(self) -> Path:
        """Files as the source systems deliver them, one folder per source."""
        return self.root / "landing"

    def landing_for(self, source: str) -> Path:
        return self.landing / source

    @property
    def ground_truth(self) -> Path:
        """What the simulator knows to be true; tests read it, the pipeline never does."""
        return self.root / "ground_truth"

    @property
    def raw_db(self) -> Path:
        """Ingest's own DuckDB file (schema `raw`); only ingest writes it."""
        return self.root / "raw.duckdb"

    @property
    def ingest_lock(self) -> Path:
        return self.root / ".ingest.lock"

    @property
    def warehouse(self) -> Path:
        """The published warehouse readers open read-only."""
        return self.root / "warehouse.duckdb"

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    def ensure(self) -> HomePaths:
        self.landing.mkdir(parents=True, exist_ok=True)
        return self
