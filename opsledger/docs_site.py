"""The documentation sites a publication ships: dbt's docs (models, columns, lineage)
and Great Expectations' Data Docs, both plain files under the home that open offline.

dbt's site is `dbt docs generate --static`: one HTML file with the manifest and the
catalog embedded (no server, no fetch of manifest.json, which browsers refuse from
file://). It is generated on the build database before it is published (the catalog
reads the built tables' columns and types), staged beside the build and swapped in
with it (publish.SITES: one atomic rename of a symlink, like the Data Docs).
"""

from __future__ import annotations

import shutil
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from opsledger.dbt_project import DbtOutcome, run_dbt

DBT_DOCS_DIR = "dbt_docs"
GX_DOCS_DIR = "gx_docs"
# what `docs generate --static` writes into the target path, and the names published
DBT_SITE_FILES = {
    "static_index.html": "index.html",
    "manifest.json": "manifest.json",  # the workbench's schema browser reads it
    "catalog.json": "catalog.json",
}


@dataclass(frozen=True)
class DocsPaths:
    dbt_site: Path
    gx_site: Path

    def to_dict(self) -> dict[str, dict[str, str | bool]]:
        return {
            "dbt_docs": {"path": str(self.dbt_site), "exists": self.dbt_site.is_file()},
            "gx_docs": {"path": str(self.gx_site), "exists": self.gx_site.is_file()},
        }


def docs_paths(home: Path) -> DocsPaths:
    return DocsPaths(
        dbt_site=home / DBT_DOCS_DIR / "index.html",
        gx_site=home / GX_DOCS_DIR / "index.html",
    )


def generate_dbt_docs(build_db: Path, work_dir: Path, memory_limit: str = "3GB") -> DbtOutcome:
    """`dbt docs generate --static` in the build's own target path: the build's
    partial parse is reused (a new target path would re-parse the project, ~8 s) and
    its compiled SQL is fresh, so --no-compile skips compiling every node again."""
    return run_dbt(
        ["docs", "generate", "--static", "--no-compile"],
        build_db=build_db,
        work_dir=work_dir,
        memory_limit=memory_limit,
    )


def stage_dbt_docs(work_dir: Path, staging: Path) -> Path:
    """Copy the generated site out of dbt's target path (the next build overwrites it)."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    target = work_dir / "target"
    for source, name in DBT_SITE_FILES.items():
        shutil.copyfile(target / source, staging / name)
    return staging


def open_docs(paths: DocsPaths) -> list[Path]:
    """Open each site that exists in the default browser; the ones opened."""
    opened = [p for p in (paths.dbt_site, paths.gx_site) if p.is_file()]
    for path in opened:
        webbrowser.open(path.resolve().as_uri())
    return opened
