"""The publications record (`ops.publications`) as a warehouse of any age holds it."""

from __future__ import annotations

import duckdb


def recorded_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The columns of ops.publications in the warehouse `con` reads: one published
    before the audit kinds (issue 21) has no audit / last_full_audit_at, one before
    the engines (issue 22) no engine; empty when there is no such table."""
    return {
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns()"
            " where schema_name = 'ops' and table_name = 'publications'"
        ).fetchall()
    }
