"""One settings object for the OPSLEDGER_* variables: defaults, validation with a clear
message, the documented table, and no ad-hoc reads elsewhere."""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import pytest

from opsledger.core.environment import VARIABLES, Environment, environment
from opsledger.core.errors import BadInput, SettingsError
from tests.test_layers import ROOT, modules

DOC = ROOT / "docs" / "configuration.md"


def test_defaults_when_nothing_is_set() -> None:
    assert environment({}) == Environment()
    assert environment({}).dbt_file_log_level == "warn" and environment({}).home is None


def test_values_are_parsed() -> None:
    env = environment(
        {
            "OPSLEDGER_HOME": "/srv/ops",
            "OPSLEDGER_AUTO_REFRESH": "1.5",
            "OPSLEDGER_CURRENCY": "eur",
            "OPSLEDGER_CLOCK": "2025-06-30T20:00:00",
            "OPSLEDGER_DBT_FILE_LOG_LEVEL": "DEBUG",
            "OPSLEDGER_DEBUG": "yes",
            "OPSLEDGER_FAULT_AT": "audit",
            "OPSLEDGER_INGEST_SLEEP_IN_TX": "2",
        }
    )
    assert env == Environment(
        home=Path("/srv/ops"),
        auto_refresh=1.5,
        currency="EUR",
        clock=datetime(2025, 6, 30, 20),
        dbt_file_log_level="debug",
        debug=True,
        fault_at="audit",
        ingest_sleep_in_tx=2.0,
    )
    # auto-refresh keeps its words: off / 0 off, on a 3 s debounce
    assert environment({"OPSLEDGER_AUTO_REFRESH": "off"}).auto_refresh is None
    assert environment({"OPSLEDGER_AUTO_REFRESH": "0"}).auto_refresh is None
    assert environment({"OPSLEDGER_AUTO_REFRESH": "on"}).auto_refresh == 3.0


@pytest.mark.parametrize(
    ("name", "value", "accepts"),
    [
        ("OPSLEDGER_AUTO_REFRESH", "soon", "seconds >= 0"),
        ("OPSLEDGER_AUTO_REFRESH", "-2", "seconds >= 0"),
        ("OPSLEDGER_CURRENCY", "euros", "ISO 4217"),
        ("OPSLEDGER_CLOCK", "tomorrow", "ISO timestamp"),
        ("OPSLEDGER_DBT_FILE_LOG_LEVEL", "loud", "debug, info, warn, error, none"),
        ("OPSLEDGER_DEBUG", "maybe", "1/0"),
        ("OPSLEDGER_FAULT_AT", "lunch", "ingest, build, audit, publish"),
        ("OPSLEDGER_INGEST_SLEEP_IN_TX", "nan", "seconds >= 0"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(name, value, accepts) -> None:
    with pytest.raises(SettingsError) as raised:
        environment({name: value})
    assert isinstance(raised.value, BadInput)  # the CLI's exit 6
    assert name in str(raised.value) and repr(value) in str(raised.value)
    assert accepts in str(raised.value)


def test_every_variable_is_documented_with_its_default() -> None:
    table = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^\| `(OPSLEDGER_\w+)` \|([^|]*)\|", DOC.read_text(), re.M)
    }
    assert table == {v.name: v.default for v in VARIABLES}


def test_every_opsledger_variable_in_the_code_is_known() -> None:
    """A new OPSLEDGER_* name anywhere in the package or the dbt project must be
    added to VARIABLES (and so to the docs)."""
    known = {v.name for v in VARIABLES}
    files = [*modules().values(), *(ROOT / "dbt").rglob("*.sql"), *(ROOT / "dbt").glob("*.yml")]
    used = {
        name
        for path in files
        for name in re.findall(r"OPSLEDGER_[A-Z][A-Z_]*[A-Z]", path.read_text(encoding="utf-8"))
    }
    assert used and used <= known, sorted(used - known)


def _reads_environ(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        # os.environ.get(...), os.getenv(...), os.environ[...] read
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = ast.unparse(node.func)
            if target in ("os.environ.get", "os.getenv", "environ.get"):
                lines.append(node.lineno)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value) in ("os.environ", "environ")
        ):
            lines.append(node.lineno)
    return lines


def test_no_ad_hoc_environment_reads() -> None:
    reads = {
        module: lines
        for module, path in modules().items()
        if module != "opsledger.core.environment"
        and (lines := _reads_environ(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert reads == {}
