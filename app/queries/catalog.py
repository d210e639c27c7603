"""The schema browser's documentation: dbt's manifest/catalog when the pipeline copies
it next to the warehouse, else the comments DuckDB keeps (duckdb_tables/duckdb_columns)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl


def manifest_path(home: Path) -> Path | None:
    for candidate in (
        home / "dbt_docs" / "manifest.json",
        home / "docs" / "manifest.json",
        home / "target" / "manifest.json",
        home / "dbt" / "manifest.json",
    ):
        if candidate.exists():
            return candidate
    return None


def tables(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.execute(
        "select * from (select schema_name as schema, table_name as name, 'table' as kind,"
        " estimated_size as rows, comment as description from duckdb_tables()"
        " where database_name = current_database() and not internal"
        " union all select schema_name, view_name, 'view', null, comment from duckdb_views()"
        " where database_name = current_database() and not internal)"
        " order by case schema when 'marts' then 0 when 'domain' then 1 when 'ops' then 2"
        " else 3 end, schema, name"
    ).pl()


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pl.DataFrame:
    return con.execute(
        "select column_name as column, data_type as type, is_nullable as nullable,"
        " comment as description from duckdb_columns()"
        " where database_name = current_database() and schema_name = ? and table_name = ?"
        " order by column_index",
        [schema, table],
    ).pl()


def dbt_docs(manifest: Path | None) -> dict[str, dict]:
    """`schema.table` -> {description, columns: {name: description}} from the manifest."""
    if manifest is None:
        return {}
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, dict] = {}
    for node in list(data.get("nodes", {}).values()) + list(data.get("sources", {}).values()):
        if node.get("resource_type") not in ("model", "seed", "snapshot", "source"):
            continue
        name = node.get("alias") or node.get("identifier") or node.get("name")
        key = f"{node.get('schema')}.{name}"
        out[key] = {
            "description": node.get("description") or "",
            "columns": {
                c: (v or {}).get("description", "") for c, v in node.get("columns", {}).items()
            },
            "depends_on": node.get("depends_on", {}).get("nodes", []),
        }
    return out
