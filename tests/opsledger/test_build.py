"""The build decides between incremental and full refresh by the project's fingerprint."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from opsledger.build import build_warehouse, record_fingerprint
from opsledger.dbt_project import DBT_DIR, PROJECT_PARTS, project_fingerprint


def test_fingerprint_follows_the_project_files(tmp_path: Path) -> None:
    copy = tmp_path / "dbt"
    for part in PROJECT_PARTS:
        source = DBT_DIR / part
        if source.is_dir():
            shutil.copytree(source, copy / part)
        else:
            copy.mkdir(exist_ok=True)
            shutil.copyfile(source, copy / part)
    assert project_fingerprint(copy) == project_fingerprint()
    (copy / "target").mkdir()
    (copy / "target" / "run_results.json").write_text("{}")  # dbt's output does not count
    assert project_fingerprint(copy) == project_fingerprint()
    model = next((copy / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    assert project_fingerprint(copy) != project_fingerprint()


def test_a_build_of_other_code_is_refreshed_fully(tmp_path: Path) -> None:
    home = tmp_path / "home"
    build_db = tmp_path / "build" / "warehouse.duckdb"
    build_db.parent.mkdir()

    def build() -> bool:
        result = build_warehouse(home, build_db=build_db)
        assert result.success, result.dbt.error or result.dbt.failures
        return result.full_refresh

    def recorded() -> list[tuple]:
        con = duckdb.connect(str(build_db), read_only=True)
        try:
            return con.execute("select fingerprint from ops.dbt_project").fetchall()
        finally:
            con.close()

    assert build() is True, "nothing built yet: a full refresh"
    assert recorded() == [(project_fingerprint(),)]
    assert build() is False, "same project: incremental"
    record_fingerprint(build_db, "built-by-an-older-version")
    assert build() is True, "changed project: full refresh"
    assert recorded() == [(project_fingerprint(),)]
