"""Landing-file discovery and content hashing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from opsledger.models.domain import Domain

# extension (after removing .gz) -> reader format
FORMATS: dict[str, str] = {".jsonl": "json", ".ndjson": "json", ".json": "json", ".csv": "csv"}
PARQUET = ".parquet"
# files a sender is still writing, or OS litter: never read
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


@dataclass(frozen=True)
class LandingFile:
    path: Path
    rel: str  # path relative to the landing folder: what raw tables record
    source: str  # first folder name under landing/
    format: str | None  # json | csv | parquet | None (unsupported)
    gzip: bool
    size: int
    mtime_ns: int
    problem: str | None = None  # why the file cannot be read at all

    @property
    def display(self) -> str:
        return self.rel


def classify_name(name: str) -> tuple[str | None, bool]:
    lower = name.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    if lower.endswith(PARQUET):
        return ("parquet" if not gz else None), gz
    for ext, fmt in FORMATS.items():
        if lower.endswith(ext):
            return fmt, gz
    return None, gz


def discover(landing: Path, domain: Domain) -> list[LandingFile]:
    """Every candidate file, master source first, then the others, each in sorted path order."""
    if not landing.is_dir():
        return []
    found: list[LandingFile] = []
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        rel = path.relative_to(landing).as_posix()
        if any(part.startswith(".") for part in path.relative_to(landing).parts):
            continue
        if path.name.lower().endswith(IGNORED_SUFFIXES):
            continue
        parts = rel.split("/")
        source = parts[0] if len(parts) > 1 else ""
        fmt, gz = classify_name(path.name)
        problem = None
        if not source:
            problem = "file lies directly in landing/; put it in a folder named after its source"
        elif source not in domain.sources:
            problem = f"unknown source folder {source!r}; known: {', '.join(domain.sources)}"
        elif fmt is None:
            problem = "unsupported file format (use .jsonl/.json/.ndjson/.csv[.gz] or .parquet)"
        stat = path.stat()
        found.append(
            LandingFile(path, rel, source, fmt, gz, stat.st_size, stat.st_mtime_ns, problem)
        )
    # master data first, so refs of the other sources can be checked against it
    return sorted(found, key=lambda f: (f.source != "master", f.rel))


def content_hash(path: Path) -> str:
    """sha256 of the bytes as delivered (streamed; bounded memory)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
