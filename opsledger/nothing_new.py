"""Is the published warehouse already what a build would publish now?

A refresh with nothing new would rebuild the same tables from the same events with
the same code (issue 21: such a refresh should cost seconds, not a build). It may
skip the build when all of these hold:

- raw holds what the publication's raw holds: the same rows in every event table
  (count and newest batch: rows only ever arrive in a new batch, revocations remove
  rows), the same rows of the landing-file ledger, quarantine and revocations, and
  no ingest run that did anything since (runs that found nothing are not content);
- the dbt project is the one that built the publication (its fingerprint);
- the publication was built by the engine asked for;
- the clock has not reached any node's `judged_until` (marts.fct_node_freshness):
  until then every node's liveness and staleness are what a build would judge.

What a skipped build does not redo is the clock-based ages (minutes since a node's
last report): they stay as of the publication's `clock_at`, which the freshness
table shows beside them. The caller decides about audits (a full audit that is due
or asked for still builds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from opsledger.core.environment import environment
from opsledger.core.paths import HomePaths
from opsledger.dbt_project import project_fingerprint
from opsledger.raw_sync import event_tables

# an ingest run that read files, loaded, quarantined, released or failed is content
_RUNS_THAT_DID_SOMETHING = (
    "status <> 'done' or coalesce(files, 0) + coalesce(rows_read, 0) + coalesce(loaded, 0)"
    " + coalesce(duplicates, 0) + coalesce(quarantined, 0) + coalesce(released, 0) > 0"
)
# the bookkeeping tables are small and updated in place (released rows): every row
# counts (an order-independent hash of the rows); (table, rows considered)
_ROW_HASH = "count(*), bit_xor(hash(t))"
_BOOKKEEPING_STATE = (
    ("ingest_files", _ROW_HASH, "true"),
    ("quarantine", _ROW_HASH, "true"),
    ("revocations", _ROW_HASH, "true"),
    ("ingest_batches", _ROW_HASH, _RUNS_THAT_DID_SOMETHING),
)


@dataclass(frozen=True)
class Currency:
    """The verdict: `current` when the build can be skipped, else `reason` says why not."""

    current: bool
    reason: str
    build_id: str | None = None  # the publication that stays
    judged_until: datetime | None = None  # when the clock next changes a node's judgement


def clock_now() -> datetime:
    """Naive UTC: what a build's clock_now() would be (OPSLEDGER_CLOCK when pinned)."""
    pinned = environment().clock
    return pinned.replace(tzinfo=None) if pinned else datetime.now(UTC).replace(tzinfo=None)


def judgement_expires(warehouse: Path) -> datetime | None:
    """The earliest judged_until of the publication: when the clock alone changes a
    node's liveness or staleness (None: never, or no such publication)."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute("select min(judged_until) from marts.fct_node_freshness").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def raw_state(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, tuple]:
    """What identifies the content of `catalog`'s raw schema (see the module doc);
    a table that does not exist there counts as empty."""
    present = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = 'raw'",
            [catalog],
        ).fetchall()
    }
    state: dict[str, tuple] = {}
    tables = [(t, "count(*), max(batch_id)", "true") for t in event_tables()]
    for table, aggregates, where in [*tables, *_BOOKKEEPING_STATE]:
        if table not in present:
            state[table] = (0,)
            continue
        # identifiers are the domain's table names, not input
        row = con.execute(
            f"select {aggregates} from {catalog}.raw.{table} as t where {where}"
        ).fetchone()
        state[table] = (0,) if row[0] == 0 else tuple(row)
    return state


def _built_fingerprint(
    con: duckdb.DuckDBPyConnection, paths: HomePaths, built_by: str, build_id: str
) -> str | None:
    """The project fingerprint the publication was built with: a DuckDB build records
    it in the file (ops.dbt_project); a Spark build's is the state of its tables."""
    if built_by == "spark":
        from opsledger.spark_build import published_state

        state = published_state(paths.root)
        return state["fingerprint"] if state.get("build_id") == build_id else None
    return con.execute("select fingerprint from published.ops.dbt_project").fetchone()[0]


def _attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    quoted = path.as_posix().replace("'", "''")  # ATTACH takes no parameters
    con.execute(f"attach '{quoted}' as {alias} (read_only)")


def check_current(paths: HomePaths, engine: str, now: datetime) -> Currency:
    """Whether the publication of `paths` is what a build of `engine` would publish at
    `now` (naive UTC); every doubt (a file being written, a legacy publication) says no."""
    if not paths.warehouse.exists():
        return Currency(False, "nothing published yet")
    if not paths.raw_db.exists():
        return Currency(False, "no raw layer")
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        try:
            _attach(con, paths.raw_db, "raw_now")
            _attach(con, paths.warehouse, "published")
        except duckdb.Error as exc:  # another process writes raw: its rows will be new
            return Currency(False, f"raw or the publication could not be read: {exc}")
        try:
            build_id, built_by = con.execute(
                "select build_id, coalesce(engine, 'duckdb') from published.ops.publications"
                " order by published_at desc limit 1"
            ).fetchone()
            (judged_until,) = con.execute(
                "select min(judged_until) from published.marts.fct_node_freshness"
            ).fetchone()
            fingerprint = _built_fingerprint(con, paths, built_by, build_id)
            published = raw_state(con, "published")
            now_in_raw = raw_state(con, "raw_now")
        except (duckdb.Error, TypeError) as exc:  # a legacy publication, or unreadable: build
            return Currency(False, f"the publication does not record its state ({exc})")
        if fingerprint != project_fingerprint():
            return Currency(False, "the dbt project changed", build_id)
        if built_by != engine:
            return Currency(False, f"the publication was built by {built_by}", build_id)
        changed = [t for t, state in now_in_raw.items() if published[t] != state]
        if changed:
            return Currency(False, f"new in raw: {', '.join(changed)}", build_id)
        if judged_until is not None and now >= judged_until:
            return Currency(
                False, f"a node's staleness changes at {judged_until:%Y-%m-%d %H:%M}", build_id
            )
        return Currency(True, "nothing new", build_id, judged_until)
    finally:
        con.close()
