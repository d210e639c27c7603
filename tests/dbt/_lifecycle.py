"""Helpers shared by the order, return and procurement integration tests."""

from __future__ import annotations

import json
from pathlib import Path

ORDER_MODELS = (
    "int_events_as_of_summarised",
    "int_order_lines_cancellations_applied",
    "int_order_lines_fulfilment_aggregated",
    "int_order_lines_availability_checked",
    "fct_order_lines",
    "fct_orders",
    "fct_order_exceptions",
    "fct_order_fill_daily",
)
RETURN_MODELS = (
    "int_return_lines_pivoted",
    "int_return_lines_money_attributed",
    "fct_return_lines",
    "fct_return_rate_cohorts",
    "fct_disposition_backlog",
)
PROCUREMENT_MODELS = (
    "int_po_lines_receipts_aggregated",
    "fct_po_lines",
    "fct_supplier_performance",
)


def failures_of(result, models: tuple[str, ...], prefixes: tuple[str, ...]) -> list[dict]:
    """dbt nodes (models, data and unit tests) of a domain that failed or errored."""

    def mine(name: str) -> bool:
        return any(model in name for model in models) or name.startswith(prefixes)

    return [
        {"name": r["name"], "status": r["status"], "message": r.get("message")}
        for r in result.dbt.failures
        if mine(r["name"])
    ]


def ground_truth(home: Path) -> dict:
    return json.loads((home / "ground_truth" / "totals.json").read_text())


def open_build_db(home: Path):
    import duckdb

    # opsledger.dbt_project.run_dbt releases dbt-duckdb's handle after each build
    return duckdb.connect(str(home / "build.duckdb"), read_only=True)


# -- hand-written scenarios (test_valuation, test_cancellation_refunds, ...) ------


def land_events(home: Path, events: dict[str, list[dict]], name: str, keep) -> int:
    """Write the events `keep(event_id)` selects as landing/<source>/<name>.jsonl."""
    written = 0
    for source, rows in events.items():
        chosen = [e for e in rows if keep(e["event_id"])]
        if not chosen:
            continue
        folder = home / "landing" / source
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for event in chosen:
                f.write(json.dumps(event) + "\n")
        written += len(chosen)
    return written


def ingest_all(home: Path, expected_rows: int) -> None:
    """Ingest the landing files: every row loads, none is quarantined."""
    from opsledger.ingest.pipeline import run_ingest

    summary = run_ingest(home)
    assert summary.quarantined == 0, summary.per_file
    assert summary.loaded == expected_rows


def full_build(home: Path, build_db: Path | None = None) -> Path:
    """A full refresh that must pass every dbt test; the build database's path."""
    from opsledger.build import build_warehouse

    kwargs = {"build_db": build_db} if build_db else {}
    result = build_warehouse(home, full_refresh=True, **kwargs)
    assert result.dbt.error is None and result.dbt.failures == [], result.dbt.failures
    return build_db or home / "build.duckdb"


def continue_incrementally(home: Path) -> None:
    """After a full build: run every model once more and mark the database as this
    project's, so the next build continues every incremental model."""
    from opsledger.build import record_fingerprint
    from opsledger.core.paths import HomePaths
    from opsledger.dbt_project import project_fingerprint, run_dbt

    ran = run_dbt(
        ["run"], build_db=home / "build.duckdb", work_dir=HomePaths.at(home).builds / "dbt"
    )
    assert ran.success, ran.error or ran.failures
    record_fingerprint(home / "build.duckdb", project_fingerprint())


# the build that wrote a row (issue 21): an incremental build and a full one of the
# same events differ there by design, and nowhere else
BUILD_ID_COLUMN = "_build_id"


def comparable(table: str) -> str:
    """A table's rows without the build that wrote them, for an `except all`."""
    return f"select columns(c -> c <> '{BUILD_ID_COLUMN}') from {table}"


def tables_differing(incremental_db: Path, full_db: Path, skip: tuple[str, ...] = ()) -> list:
    """(table, (rows only in incremental, rows only in full)) of every intermediate and
    mart table that differs between two builds; [] when they are the same."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"attach '{incremental_db}' as inc (read_only)")
        con.execute(f"attach '{full_db}' as full_refresh (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables()"
            " where database_name = 'full_refresh' and schema_name in ('intermediate', 'marts')"
        ).fetchall()
        assert len(tables) > 40
        differing = []
        for schema, table in tables:
            if table in skip:
                continue
            name = f"{schema}.{table}"
            diff = con.execute(
                f"select (select count(*) from ({comparable('inc.' + name)}"
                f" except all {comparable('full_refresh.' + name)})),"
                f" (select count(*) from ({comparable('full_refresh.' + name)}"
                f" except all {comparable('inc.' + name)}))"
            ).fetchone()
            if diff != (0, 0):
                differing.append((name, diff))
        return differing
    finally:
        con.close()
