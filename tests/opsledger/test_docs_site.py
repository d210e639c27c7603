"""The dbt docs site a publication ships: one static file with the manifest and the
catalog embedded (public marts, lineage), that loads nothing from the network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsledger.cli import app
from opsledger.docs_site import docs_paths

# the embedded artifacts: `var n={manifest:{...},catalog:{...}}` in the docs app's code
EMBEDDED = re.compile(r"\b(manifest|catalog):(?=\{\"metadata\")")
# what a browser would fetch: script/img/iframe src, link href, CSS url() and @import
REMOTE_ASSET = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//|@import\s+(?:url\()?\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def _embedded(html: str) -> dict[str, dict]:
    """The JSON objects the static page embeds, parsed with the JSON decoder."""
    decoder = json.JSONDecoder()
    found = {}
    for match in EMBEDDED.finditer(html):
        found[match.group(1)], _ = decoder.raw_decode(html, match.end())
    return found


@pytest.fixture(scope="module")
def site(real_home: Path) -> str:
    index = docs_paths(real_home).dbt_site
    assert index.is_file(), f"no dbt docs site at {index}"
    return index.read_text(encoding="utf-8")


def test_site_embeds_the_public_marts_and_their_lineage(site: str) -> None:
    embedded = _embedded(site)
    assert set(embedded) == {"manifest", "catalog"}
    manifest, catalog = embedded["manifest"], embedded["catalog"]
    marts = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    }
    assert {"fct_order_lines", "fct_stock_daily", "kpi_daily", "dim_sku"} <= set(marts)
    for name, node in marts.items():
        assert node["access"] == "public", name
        assert node["contract"]["enforced"], name
    # lineage: the graph the page draws comes from parent_map / depends_on
    order_lines = marts["fct_order_lines"]["unique_id"]
    parents = manifest["parent_map"][order_lines]
    assert any(p.startswith("model.opsledger.int_") for p in parents), parents
    assert manifest["child_map"][order_lines]  # fct_orders, exposures, tests
    # the catalog holds the built columns (it read the build database)
    assert catalog["nodes"][order_lines]["columns"]["net_revenue"]["type"].startswith("DECIMAL")


def test_site_loads_nothing_from_the_network(site: str) -> None:
    assert REMOTE_ASSET.findall(site) == []
    # the only remote script the page can add is dbt's tracker, loaded when the
    # manifest says the project sends usage statistics
    assert _embedded(site)["manifest"]["metadata"]["send_anonymous_usage_stats"] is False


def test_docs_command_prints_both_sites(real_home: Path) -> None:
    result = CliRunner().invoke(app, ["docs", "--home", str(real_home), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["dbt_docs"] == {"path": str(real_home / "dbt_docs" / "index.html"), "exists": True}
    assert out["gx_docs"]["path"] == str(real_home / "gx_docs" / "index.html")


def test_docs_command_on_a_home_without_sites(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["docs", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "dbt_docs" / "index.html") in result.output
    assert "not built yet" in result.output
