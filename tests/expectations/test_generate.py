"""The committed GX context is exactly what `python -m expectations.generate` writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from opsledger.expectations.definitions import suites
from opsledger.expectations.generate import GX_DIR, generate

REPO = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "uncommitted" not in p.parts
    }


def test_generate_is_idempotent(tmp_path):
    generate(tmp_path / "gx")
    assert _tree(tmp_path / "gx") == _tree(GX_DIR), "run `python -m expectations.generate`"


def test_committed_context_is_clean_in_git():
    out = subprocess.run(
        ["git", "status", "--porcelain", "--", str(GX_DIR)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == ""


def test_config_keeps_docs_and_analytics_out_of_the_repo():
    config = yaml.safe_load((GX_DIR / "great_expectations.yml").read_text())
    assert config["analytics_enabled"] is False
    site = config["data_docs_sites"]["local_site"]["store_backend"]
    assert site["base_directory"] == "${OPSLEDGER_GX_DOCS}"
    assert (GX_DIR / ".gitignore").read_text().strip() == "uncommitted/"
    assets = config["fluent_datasources"]["opsledger"]["assets"]
    assert set(assets) == {s.name for s in suites()}


def test_every_expectation_has_a_severity():
    import json

    for path in (GX_DIR / "expectations").glob("*.json"):
        suite = json.loads(path.read_text())
        for expectation in suite["expectations"]:
            assert expectation["meta"]["severity"] in ("error", "warning"), path
