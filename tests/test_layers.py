"""The import layers, checked statically (every import statement, lazy ones inside
functions included, parsed with ast): the domain model at the bottom, then the core
(paths, settings, environment, read-only connections, the write-back store), ingest
on the core, and the app and the CLI on top. Nothing below the CLI imports the CLI,
nothing below the app imports the app, and the write-back store never imports the
refresh (the refresh is passed in: opsledger.writeback.apply_pending)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CORE = ("opsledger.core", "opsledger.writeback")
MODELS = ("opsledger.models",)
# layer -> the opsledger modules it may import (a prefix allows its submodules)
ALLOWED: dict[str, tuple[str, ...]] = {
    "opsledger.models": MODELS,
    "opsledger.core": (*CORE, *MODELS),
    "opsledger.writeback": (*CORE, *MODELS),
    "opsledger.ingest": ("opsledger.ingest", *CORE, *MODELS),
}
# module prefix -> modules it must never import (a module may import its own package)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "opsledger": ("opsledger.cli", "opsledger.app"),  # the CLI may import the app
}
# the top two layers: the CLI stands on the app (`opsledger serve`)
TOP = {"opsledger.cli": ("opsledger.app",)}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def package_dirs(root: Path = ROOT) -> dict[str, Path]:
    """Package name -> folder, from pyproject's package-dir mapping (app/ is
    opsledger.app, ...)."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {package: root / folder for package, folder in mapping.items()}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every installed module name -> its source file. A folder mapped to its own
    package (app/ -> opsledger.app) is not also a subpackage of its parent."""
    dirs = package_dirs(root)
    claimed = {folder.resolve() for folder in dirs.values()}
    found: dict[str, Path] = {}
    for package, folder in dirs.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder)
            if any((folder / p).resolve() in claimed - {folder.resolve()} for p in rel.parents):
                continue  # belongs to another mapped package
            parts = [*rel.parts[:-1], *([] if rel.stem == "__init__" else [rel.stem])]
            found[".".join([package, *parts])] = path
    return found


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The opsledger modules `path` imports, anywhere in the file (lazy imports too),
    each resolved to the module that defines the name (`from opsledger.core.paths
    import HomePaths` is opsledger.core.paths, `from opsledger import cli` is
    opsledger.cli). The bare root package `opsledger` only holds the version."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names.update(f"{base}.{alias.name}" for alias in node.names)
    resolved = {_resolve(n, known) for n in names if _within(n, "opsledger")}
    return {n for n in resolved if n and n != "opsledger"}


def _resolve(name: str, known: set[str]) -> str:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def violations(root: Path = ROOT) -> list[str]:
    found = modules(root)
    known = set(found)
    problems: list[str] = []
    for module, path in sorted(found.items()):
        imported = imports(module, path, known)
        for layer, allowed in ALLOWED.items():
            if _within(module, layer):
                problems += [
                    f"{module} imports {name} (the {layer} layer may import only "
                    f"{', '.join(allowed)})"
                    for name in sorted(imported)
                    if not any(_within(name, a) for a in allowed)
                ]
        for prefix, banned in FORBIDDEN.items():
            if _within(module, prefix):
                problems += [
                    f"{module} imports {name}"
                    for name in sorted(imported)
                    for b in banned
                    if _within(name, b) and not _within(module, b) and b not in TOP.get(module, ())
                ]
    return sorted(set(problems))


def test_the_layers_hold() -> None:
    assert violations() == []


def test_every_layer_is_found() -> None:
    found = modules()
    for name in (
        "opsledger.cli",
        "opsledger.core.paths",
        "opsledger.core.environment",
        "opsledger.writeback.inbox",
        "opsledger.ingest.pipeline",
        "opsledger.app.serve",
        "opsledger.models.domain",
    ):
        assert name in found, name
    # lazy imports inside functions count
    assert "opsledger.ingest.pipeline" in imports(
        "opsledger.cli", found["opsledger.cli"], set(found)
    )


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.setuptools.package-dir]\n"opsledger" = "opsledger"\n'
        '"opsledger.app" = "app"\n"opsledger.ingest" = "ingest"\n',
        encoding="utf-8",
    )
    for name, text in {
        "opsledger/__init__.py": "",
        "opsledger/cli.py": "",
        "opsledger/refresh.py": "",
        "opsledger/core/__init__.py": "",
        "opsledger/core/paths.py": "",
        "opsledger/writeback/__init__.py": "",
        "app/__init__.py": "",
        "app/page.py": "",
        "ingest/__init__.py": "",
        **files,
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({"ingest/load.py": "def f():\n    from opsledger import cli\n"}, "opsledger.cli"),
        ({"opsledger/core/x.py": "import opsledger.app.page\n"}, "opsledger.app"),
        ({"opsledger/core/x.py": "from ..cli import app\n"}, "opsledger.cli"),
        ({"opsledger/writeback/inbox.py": "from opsledger.refresh import r\n"}, "refresh"),
        ({"app/page.py": "from opsledger.cli import app\n"}, "opsledger.app.page imports"),
        ({"opsledger/refresh.py": "from opsledger.app import page\n"}, "opsledger.refresh"),
    ],
)
def test_a_forbidden_import_is_reported(tmp_path: Path, files: dict, needle: str) -> None:
    problems = violations(_tree(tmp_path, files))
    assert any(needle in p for p in problems), problems


def test_allowed_imports_are_not_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "ingest/load.py": "from opsledger.core.paths import HomePaths\n",
            "app/page.py": "from opsledger.refresh import run\nfrom opsledger import writeback\n",
            "opsledger/cli.py": "from opsledger.app import page\n",
        },
    )
    assert violations(root) == []
