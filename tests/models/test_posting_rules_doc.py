"""docs/posting-rules.md lists exactly the chart of accounts of the domain model,
with the same types, so an integrator reconciling from the page sees every account
the ledger posts to (the seed and dim_gl_account come from the same model)."""

from __future__ import annotations

import re
from pathlib import Path

from opsledger.models.domain import load_domain

DOC = Path(__file__).resolve().parents[2] / "docs" / "posting-rules.md"


def _documented_accounts() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Chart of accounts", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z_]+)` \| ([a-z_]+) \|$", section, flags=re.M))


def test_posting_rules_page_lists_the_domain_chart_of_accounts():
    accounts = load_domain().raw["gl_accounts"]
    assert _documented_accounts() == {name: spec["type"] for name, spec in accounts.items()}


def test_every_account_of_the_chart_has_a_posting_rule():
    text = DOC.read_text(encoding="utf-8")
    rules = text.split("## Posting rules", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\b([a-z]+(?:_[a-z]+)+|cash|inventory|revenue|cogs)\b", rules))
    accounts = set(load_domain().raw["gl_accounts"])
    assert accounts - named == set()
