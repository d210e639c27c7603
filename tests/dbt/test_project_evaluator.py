"""dbt-project-evaluator's documentation, testing, structure and governance rules
report nothing on the project (issue 19).

Offline: the package and its dependency dbt_utils are vendored at pinned versions
under tests/dbt/evaluator/packages/ (README.md there); a copy of the project points
`packages-install-path` at them, so dbt loads them without `dbt deps` or a network.
The evaluator reads dbt's graph, not the data: its models build on an empty DuckDB.
Its settings for this project (primary-key tests, mart prefixes) are vars in
dbt/dbt_project.yml; docs/architecture.md says why. Its DAG-modeling and
performance rules (fan-out, joins, rejoined concepts) are not run: they judge the
shape of the DAG, a refactoring outside issue 19's scope."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from opsledger.dbt_project import DBT_DIR, run_dbt

PACKAGES = Path(__file__).resolve().parent / "evaluator" / "packages"
PROJECT = DBT_DIR  # the project evaluated (a module constant, so it can be pointed elsewhere)

# the evaluator's rule folders (models/marts/<folder>) this test enforces
RULE_FOLDERS = ("documentation", "tests", "structure", "governance")
RULES = {
    "fct_documentation_coverage",
    "fct_undocumented_models",
    "fct_undocumented_source_tables",
    "fct_undocumented_sources",
    "fct_missing_primary_key_tests",
    "fct_sources_without_freshness",
    "fct_test_coverage",
    "fct_model_directories",
    "fct_model_naming_conventions",
    "fct_source_directories",
    "fct_test_directories",
    "fct_exposures_dependent_on_private_models",
    "fct_public_models_without_contract",
    "fct_undocumented_public_models",
}
# coverage rules: one row of percentages each, held to the package's targets (100)
COVERAGE = {
    "fct_documentation_coverage": "documentation_coverage_pct",
    "fct_test_coverage": "test_coverage_pct",
}

# appended to the copy's dbt_project.yml: where the vendored packages are, and the
# dispatch the evaluator's docs require on DuckDB (it shims a few dbt macros)
EVALUATOR_SETUP = """
packages-install-path: "{packages}"
dispatch:
  - macro_namespace: dbt
    search_order: ["dbt_project_evaluator", "dbt"]
"""


def evaluate(project: Path, work: Path) -> tuple[object, dict[str, list[dict]]]:
    """Build the evaluator's rule models (and their tests) for a copy of `project`
    on an empty database; return the dbt outcome and each rule table's rows."""
    copy = work / "dbt"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    config = copy / "dbt_project.yml"
    config.write_text(config.read_text() + EVALUATOR_SETUP.format(packages=PACKAGES))
    db = work / "evaluator.duckdb"
    selectors = [f"+dbt_project_evaluator.marts.{folder}" for folder in RULE_FOLDERS]
    outcome = run_dbt(
        ["build", "--select", *selectors], build_db=db, work_dir=work, project_dir=copy
    )
    assert outcome.error is None, outcome.error
    built = {r["name"] for r in outcome.results if r["resource_type"] == "model"}
    con = duckdb.connect(str(db), read_only=True)
    try:
        rules: dict[str, list[dict]] = {}
        for name in sorted(n for n in built if n.startswith("fct_")):
            cur = con.execute(f'select * from "{name}"')
            columns = [d[0] for d in cur.description]
            rules[name] = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
    return outcome, rules


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory) -> tuple[object, dict[str, list[dict]]]:
    return evaluate(PROJECT, tmp_path_factory.mktemp("evaluator"))


def test_the_evaluator_is_vendored_and_runs_its_rules(evaluation):
    outcome, rules = evaluation
    assert (PACKAGES / "dbt_project_evaluator" / "LICENSE").is_file()
    assert outcome.failures == [], [(r["name"], r["message"]) for r in outcome.failures]
    # every rule of the four folders was built and read: a renamed selector builds
    # nothing, and a package upgrade adding a rule shows here to be looked at
    assert set(rules) == RULES


def test_no_rule_reports_anything_on_the_project(evaluation):
    outcome, rules = evaluation
    findings = {name: rows for name, rows in rules.items() if name not in COVERAGE and rows}
    for name, column in COVERAGE.items():
        (row,) = rules[name]
        if row[column] != 100:
            findings[name] = [row]
    assert findings == {}, "\n".join(
        f"{name}: {row}" for name, rows in findings.items() for row in rows
    )
    # the package's own tests on its rule tables agree (they only warn)
    assert [(r["name"], r["message"]) for r in outcome.warnings] == []
