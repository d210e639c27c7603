"""Write-audit-publish: crashes, concurrent readers and a failing gate never reach readers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from opsledger.core.paths import HomePaths
from opsledger.dbt_project import FILE_LOG_LEVEL_ENV
from opsledger.ingest.simulator.config import REFERENCE_END
from opsledger.refresh import FAULT_ENV, run_refresh

pytestmark = pytest.mark.slow

SCALE = 0.02


def _opsledger(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "opsledger.cli", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _published(home: Path) -> tuple[str, int]:
    con = duckdb.connect(str(HomePaths.at(home).warehouse), read_only=True)
    try:
        build_id, events = con.execute(
            "select build_id, events_total from ops.publications order by published_at desc limit 1"
        ).fetchone()
        # the published file answers real queries, not only its bookkeeping
        con.execute("select count(*) from marts.fct_stock_on_hand").fetchone()
        return build_id, events
    finally:
        con.close()


@pytest.fixture(scope="module")
def published_home(tmp_path_factory) -> Path:
    """A home with simulated landing files and one good publication."""
    from opsledger.ingest.simulator import generate

    home = tmp_path_factory.mktemp("refresh-home")
    generate(home, scale=SCALE, seed=3, end=REFERENCE_END)
    result = run_refresh(home)
    assert result.published, result.to_dict()
    return home


def _copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "builds"))
    return target


def test_refresh_publishes_and_status_reports_it(published_home):
    build_id, events = _published(published_home)
    status = _opsledger("status", "--json", "--home", str(published_home))
    out, err = status.communicate(timeout=120)
    assert status.returncode == 0, err
    info = json.loads(out)
    assert info["published"]["build_id"] == build_id
    assert info["published"]["events_total"] == events > 0
    assert info["published"]["gate_success"] is True
    assert info["last_refresh"]["status"] == "published"
    # the gate's Data Docs are published with the warehouse they describe
    docs = published_home / "gx_docs"
    assert docs.is_symlink() and (docs / "index.html").is_file()
    runs = {p.parts[len(docs.parts) + 2] for p in (docs / "validations").rglob("*.html")}
    assert runs == {build_id}


def test_failed_landing_expectation_fails_the_gate_and_keeps_the_docs(published_home, tmp_path):
    """A landing batch whose file counts do not reconcile fails the gate: nothing is
    published, readers keep the last good warehouse and its Data Docs, and the failed
    build keeps the docs that say why."""
    home = _copy_home(published_home, tmp_path / "home")
    before = _published(home)
    docs_before = (home / "gx_docs").resolve()
    con = duckdb.connect(str(HomePaths.at(home).raw_db))
    try:  # the file is named raw.duckdb: its catalog is `raw`, like the schema
        con.execute(
            "update raw.raw.ingest_files set loaded = loaded - 1 where path = "
            "(select max(path) from raw.raw.ingest_files where source = 'orders' and loaded > 0)"
        )
    finally:
        con.close()
    result = run_refresh(home)
    assert result.status == "gate_failed", result.to_dict()
    assert [(f["suite"], f["expectation"]) for f in result.gate_failures] == [
        ("landing_batches", "rows_reconcile")
    ]
    assert _published(home) == before
    assert (home / "gx_docs").resolve() == docs_before
    failed_docs = Path(result.failed_build).parent / "gx_docs"
    assert (failed_docs / "validations" / "landing_batches").is_dir()


def test_second_refresh_is_idempotent(published_home, tmp_path):
    home = _copy_home(published_home, tmp_path / "home")
    published_before = _published(home)
    # nothing new: the publication stays (no build), and the refresh says so
    unchanged = run_refresh(home)
    assert (unchanged.status, unchanged.published, unchanged.current) == (
        "unchanged",
        False,
        True,
    ), unchanged.to_dict()
    assert unchanged.current_build_id == published_before[0]
    assert unchanged.ingest["loaded"] == 0 and "dbt_build" not in unchanged.timings
    assert _published(home) == published_before
    # built anyway (--force): the same events, a new publication
    forced = run_refresh(home, force=True)
    assert forced.published and forced.ingest["loaded"] == 0
    assert _published(home) == (forced.build_id, published_before[1])


def test_next_refresh_of_a_home_reuses_the_dbt_parse(published_home, monkeypatch):
    """Every build of a home has the same path, so dbt's partial parse survives
    from one refresh to the next (a full re-parse costs ~8 s of every refresh)."""
    # the parse messages are info-level; builds log warnings only by default
    monkeypatch.setenv(FILE_LOG_LEVEL_ENV, "info")
    assert run_refresh(published_home, force=True).published
    log = (published_home / "builds" / "dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
    # the refresh's two dbt runs: the build, then `docs generate` on the same parse
    build_run, docs_run = log.rsplit("Running with dbt=", 2)[1:]
    assert "Found " in build_run
    assert "Catalog written" in docs_run
    for run in (build_run, docs_run):
        assert "Unable to do partial parsing" not in run


@pytest.mark.parametrize("stage", ["ingest", "build", "audit", "publish"])
def test_kill_during_refresh_keeps_last_good_warehouse(published_home, tmp_path, stage):
    home = _copy_home(published_home, tmp_path / "home")
    before = _published(home)
    marker = home / f".fault-{stage}"
    # nothing is new in the copy: --force builds (and reaches every stage) anyway
    proc = _opsledger("refresh", "--force", "--json", "--home", str(home), env={FAULT_ENV: stage})
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"refresh never reached {stage}"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    assert _published(home) == before, "a killed refresh changed what readers see"

    recovered = run_refresh(home, force=True)
    assert recovered.published, recovered.to_dict()
    build_id, events = _published(home)
    assert build_id == recovered.build_id
    assert events == before[1]
    assert not (home / "builds" / "building").exists(), "a crashed build was left behind"


def test_every_published_view_resolves(published_home):
    """Views name their catalog; the build file is named like the published one so
    that name still resolves after the rename (analysts query staging views)."""
    con = duckdb.connect(str(published_home / "warehouse.duckdb"), read_only=True)
    try:
        views = con.execute(
            "select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()
        assert len(views) >= 5
        for schema, view in views:
            con.execute(f'select count(*) from "{schema}"."{view}"').fetchone()
    finally:
        con.close()


def test_readers_never_fail_or_see_a_mixed_version(published_home, tmp_path):
    home = _copy_home(published_home, tmp_path / "home")
    reader_script = tmp_path / "reader.py"
    reader_script.write_text(
        """
import sys, time, duckdb, json
path, stop = sys.argv[1], sys.argv[2]
reads = errors = 0
seen = {}
import os
while not os.path.exists(stop):
    try:
        con = duckdb.connect(path, read_only=True)
        try:
            build_id, events = con.execute(
                "select build_id, events_total from ops.publications "
                "order by published_at desc limit 1").fetchone()
            raw = con.execute(
                "select (select count(*) from raw.stock_events) + (select count(*) from raw.orders_events)"
            ).fetchone()[0]
            seen.setdefault(build_id, set()).add((events, raw))
        finally:
            con.close()
        reads += 1
    except Exception as exc:
        errors += 1
        print(repr(exc), file=sys.stderr)
print(json.dumps({"reads": reads, "errors": errors,
                  "versions": {k: sorted(map(list, v)) for k, v in seen.items()}}))
"""
    )
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, str(reader_script), str(HomePaths.at(home).warehouse), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # new events arrive, so the refresh publishes a genuinely different version
        from opsledger.ingest.simulator import generate

        extra = tmp_path / "extra"
        generate(extra, scale=SCALE, seed=4, end=REFERENCE_END)
        shutil.copytree(extra / "landing" / "orders", home / "landing" / "orders" / "late-batch")
        result = run_refresh(home)
        assert result.published, result.to_dict()
        time.sleep(0.5)
    finally:
        stop.write_text("stop")
        out, err = reader.communicate(timeout=60)
    report = json.loads(out)
    assert report["errors"] == 0, err
    assert report["reads"] > 10
    assert len(report["versions"]) >= 2, "the reader should have seen both publications"
    for versions in report["versions"].values():
        assert len(versions) == 1, "one build id must always show the same content"


def test_contract_valid_negative_stock_publishes_as_a_ledger_exception(published_home, tmp_path):
    """One bad event never stops the warehouse: a shipment of far more than exists
    publishes, and the negative stock is listed with its event (issue 16)."""
    home = _copy_home(published_home, tmp_path / "home")
    before = _published(home)
    con = duckdb.connect(str(HomePaths.at(home).warehouse), read_only=True)
    sku, node = con.execute(
        "select sku, node_id from marts.fct_stock_on_hand where state = 'available' limit 1"
    ).fetchone()
    con.close()
    (home / "landing" / "stock" / "zz-broken.csv").write_text(
        "event_id,event_type,event_time,source,node_id,sku,quantity,order_id,order_line_id,"
        "shipment_id,from_state\n"
        f"broken-1,shipped,2025-06-01T12:00:00Z,wms-test,{node},{sku},1000000,o-x,ol-x,s-x,available\n"
    )
    proc = _opsledger("refresh", "--json", "--home", str(home))
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    result = json.loads(out)
    assert result["status"] == "published"
    assert _published(home)[1] == before[1] + 1
    con = duckdb.connect(str(HomePaths.at(home).warehouse), read_only=True)
    listed = con.execute(
        "select exception_type from marts.fct_ledger_exceptions "
        "where sku = ? and node_id = ? and event_ids like '%broken-1%'",
        [sku, node],
    ).fetchall()
    con.close()
    assert ("negative_on_hand",) in listed


def test_publish_site_swaps_versions_atomically(tmp_path):
    """A site is published by replacing one symlink: a home from before versioned
    sites (a real folder) is taken over, and only the current version and its
    predecessor are kept."""
    from opsledger.publish import publish_site

    target = tmp_path / "gx_docs"
    target.mkdir()
    (target / "index.html").write_text("legacy")
    for n in range(3):
        site = tmp_path / "builds" / f"b{n}" / "gx_docs"
        site.mkdir(parents=True)
        (site / "index.html").write_text(f"build {n}")
        publish_site(site, target)
        assert target.is_symlink() and (target / "index.html").read_text() == f"build {n}"
        assert not site.exists()
    versions = sorted(p.name for p in tmp_path.glob(".gx_docs-*"))
    assert len(versions) == 2 and target.resolve().name == versions[-1]
    assert not list(tmp_path.glob(".gx_docs.link"))
