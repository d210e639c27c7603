"""A small hand-built build database: the mart columns the gate reads, fixture rows.

The clean fixture is consistent by construction (the marts' invariants are dbt's
to check; the gate only reads volumes, null shares, KPI ranges and freshness):
- SKU A (standard, cost 10): 10 received at DC1, 2 reserved and shipped, 1 returned;
- SKU B (hygiene, cost 5): 4 received at DC1;
- on hand A available 8, A returned 1, B available 4; every cost known;
- order line OL1 paid 40, refunded 20; the return is restocked (allowed for standard);
- every node of fct_node_freshness is within its SLA;
- one row per source event table in the newest batch, all within the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from opsledger.models import load_domain

AS_OF = "2025-03-03 12:00:00"

MART_DDL = """
create schema if not exists marts;
create schema if not exists domain;
create schema if not exists raw;
create table marts.dim_sku (sku varchar, category varchar, product_class varchar,
    unit_cost decimal(18, 6), list_price decimal(18, 2), supplier_id varchar);
create table marts.dim_node (node_id varchar, node_type varchar, channels_served varchar,
    stale_after_minutes integer);
create table marts.fct_stock_movements (movement_id varchar, event_id varchar,
    event_type varchar, event_time timestamp, sku varchar, from_node varchar,
    from_state varchar, to_node varchar, to_state varchar, quantity bigint,
    unit_cost decimal(18, 6), value decimal(18, 2));
create table marts.fct_stock_on_hand (sku varchar, node_id varchar, state varchar,
    quantity bigint, value decimal(18, 2));
create table marts.fct_stock_daily (date date, sku varchar, node_id varchar, state varchar,
    quantity bigint, value decimal(18, 2));
create table marts.fct_gl_entries (entry_id varchar, journal_id varchar, posted_at timestamp,
    account varchar, debit decimal(18, 2), credit decimal(18, 2), source_event_id varchar);
create table marts.fct_order_lines (order_id varchar, order_line_id varchar, channel varchar,
    sku varchar, qty_ordered bigint, qty_shipped bigint, net_revenue decimal(18, 2));
create table marts.fct_return_lines (return_id varchar, return_line_id varchar,
    order_line_id varchar, sku varchar, quantity bigint, disposition varchar,
    refund_amount decimal(18, 2));

insert into marts.dim_sku values
    ('A', 'home', 'standard', 10, 25, 'SUP1'),
    ('B', 'beauty', 'hygiene', 5, 12, 'SUP1');
insert into marts.dim_node values
    ('DC1', 'own_dc', 'web|marketplace', 60),
    ('ST1', 'store', 'store', 240),
    ('3PL1', '3pl', 'web', 1440);
insert into marts.fct_stock_movements values
    ('m1', 'e1', 'po_receipt', '2025-03-01 08:00', 'A', 'DC1', 'supplier', 'DC1', 'available', 10, 10, 100),
    ('m2', 'e2', 'reserved', '2025-03-02 09:00', 'A', 'DC1', 'available', 'DC1', 'reserved', 2, 10, 20),
    ('m3', 'e3', 'shipped', '2025-03-02 15:00', 'A', 'DC1', 'reserved', 'DC1', 'customer', 2, 10, 20),
    ('m4', 'e4', 'return_received', '2025-03-03 10:00', 'A', 'DC1', 'customer', 'DC1', 'returned', 1, 10, 10),
    ('m5', 'e5', 'po_receipt', '2025-03-01 09:00', 'B', 'DC1', 'supplier', 'DC1', 'available', 4, 5, 20);
insert into marts.fct_stock_on_hand values
    ('A', 'DC1', 'available', 8, 80),
    ('A', 'DC1', 'returned', 1, 10),
    ('B', 'DC1', 'available', 4, 20);
insert into marts.fct_stock_daily values
    ('2025-03-01', 'A', 'DC1', 'available', 10, 100),
    ('2025-03-01', 'B', 'DC1', 'available', 4, 20),
    ('2025-03-02', 'A', 'DC1', 'available', 8, 80),
    ('2025-03-02', 'B', 'DC1', 'available', 4, 20),
    ('2025-03-03', 'A', 'DC1', 'available', 8, 80),
    ('2025-03-03', 'A', 'DC1', 'returned', 1, 10),
    ('2025-03-03', 'B', 'DC1', 'available', 4, 20);
insert into marts.fct_gl_entries values
    ('g1', 'j1', '2025-03-01 08:00', 'inventory', 100, 0, 'e1'),
    ('g2', 'j1', '2025-03-01 08:00', 'accounts_payable', 0, 100, 'e1'),
    ('g3', 'j2', '2025-03-01 09:00', 'inventory', 20, 0, 'e5'),
    ('g4', 'j2', '2025-03-01 09:00', 'accounts_payable', 0, 20, 'e5'),
    ('g5', 'j3', '2025-03-02 15:00', 'cogs', 20, 0, 'e3'),
    ('g6', 'j3', '2025-03-02 15:00', 'inventory', 0, 20, 'e3'),
    ('g7', 'j4', '2025-03-03 10:00', 'inventory', 10, 0, 'e4'),
    ('g8', 'j4', '2025-03-03 10:00', 'cogs', 0, 10, 'e4');
insert into marts.fct_order_lines values ('O1', 'OL1', 'web', 'A', 2, 2, 40);
insert into marts.fct_return_lines values ('R1', 'RL1', 'OL1', 'A', 1, 'restock', 20);
create table marts.fct_orders (order_id varchar, channel varchar);
insert into marts.fct_orders values ('O1', 'web');
create table marts.fct_po_lines (po_line_id varchar, sku varchar);
insert into marts.fct_po_lines values ('PO1-1', 'A');
create table marts.fct_node_freshness (node_id varchar, node_type varchar, is_stale boolean,
    minutes_since_last_event bigint, stale_after_minutes integer, data_as_of timestamp,
    feed_note varchar);
insert into marts.fct_node_freshness values
    ('DC1', 'own_dc', false, 0, 60, '2025-03-03 12:00', 'historical back-fill'),
    ('ST1', 'store', false, 60, 240, '2025-03-03 12:00', 'historical back-fill'),
    ('3PL1', '3pl', false, 600, 1440, '2025-03-03 12:00', 'historical back-fill');

create table raw.ingest_files (content_hash varchar, path varchar, source varchar,
    rows_read bigint, loaded bigint, duplicates bigint, quarantined bigint,
    batch_id varchar, ingested_at timestamptz);
insert into raw.ingest_files values
    ('h1', 'stock/a.csv', 'stock', 30, 23, 1, 6, 'b1', '2025-03-03 12:05:00+00'),
    ('h2', 'orders/a.jsonl', 'orders', 2, 2, 0, 0, 'b1', '2025-03-03 12:05:00+00');
create table raw.quarantine (batch_id varchar, source varchar, reason varchar,
    released_at timestamptz);
-- one row still quarantined, five held for late master data and released since
insert into raw.quarantine values ('b1', 'stock', 'bad_quantity', null);
insert into raw.quarantine select 'b1', 'stock', 'unknown_sku', '2025-03-03 12:06:00+00'
    from range(5);
"""


def _raw_event_tables(con: duckdb.DuckDBPyConnection) -> None:
    domain = load_domain()
    for source in domain.sources:
        cols = [f'"{f}" {domain.fields[f].sql_type}' for f in domain.source_fields(source)]
        cols += [
            "batch_id varchar",
            "source_file varchar",
            "line_number bigint",
            "ingested_at timestamptz",
        ]
        con.execute(f"create table raw.{source}_events ({', '.join(cols)})")
    # stock events of the newest batch: one per node, within each node type's SLA
    con.execute(
        """
        insert into raw.stock_events (event_id, event_type, event_time, source, node_id, sku,
            quantity, batch_id, source_file, line_number, ingested_at)
        values
            ('s1', 'po_receipt', timestamptz '2025-03-03 12:00:00+00', 'wms-dc1', 'DC1', 'A', 10,
             'b1', 'stock/a.csv', 1, timestamptz '2025-03-03 12:05:00+00'),
            ('s2', 'putaway', timestamptz '2025-03-03 11:00:00+00', 'pos-st1', 'ST1', 'A', 1,
             'b1', 'stock/a.csv', 2, timestamptz '2025-03-03 11:05:00+00'),
            ('s3', 'reserved', timestamptz '2025-03-03 02:00:00+00', '3pl-acme', '3PL1', 'B', 2,
             'b1', 'stock/a.csv', 3, timestamptz '2025-03-03 02:30:00+00'),
            ('s0', 'reserved', timestamptz '2025-03-01 02:00:00+00', '3pl-acme', '3PL1', 'B', 2,
             'b0', 'stock/0.csv', 1, timestamptz '2025-03-01 02:30:00+00')
        """
    )
    con.execute(
        """
        insert into raw.orders_events (event_id, event_type, event_time, source, order_id,
            order_line_id, channel, sku, quantity, unit_price, currency, batch_id,
            source_file, line_number, ingested_at)
        values
            ('o1', 'order_placed', timestamptz '2025-03-02 08:00:00+00', 'shopify', 'O1', 'OL1',
             'web', 'A', 2, 20, 'GBP', 'b1', 'orders/a.jsonl', 1,
             timestamptz '2025-03-03 12:05:00+00'),
            ('o2', 'payment_captured', timestamptz '2025-03-02 08:01:00+00', 'shopify', 'O1',
             null, null, null, null, null, 'GBP', 'b1', 'orders/a.jsonl', 2,
             timestamptz '2025-03-03 12:05:00+00')
        """
    )


def _kpi_daily(con: duckdb.DuckDBPyConnection) -> None:
    from opsledger.expectations.frames import load_kpis

    con.execute(
        "create table marts.kpi_daily (date date, kpi varchar, dimension varchar, "
        "dimension_value varchar, value double, numerator double, denominator double)"
    )
    con.executemany(
        "insert into marts.kpi_daily values ('2025-03-02', ?, ?, ?, 0.5, 1, 2)",
        [
            (kpi, dim, val)
            for kpi in load_kpis()
            for dim, val in (("all", "all"), ("channel", "web"))
        ],
    )


def make_build_db(path: Path, *breakages: str) -> Path:
    """Write the clean fixture to `path`, then apply SQL `breakages`."""
    con = duckdb.connect(str(path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(MART_DDL)
        _raw_event_tables(con)
        _kpi_daily(con)
        for sql in breakages:
            con.execute(sql)
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def build_db_factory(tmp_path_factory) -> Callable[..., Path]:
    def factory(name: str, *breakages: str) -> Path:
        return make_build_db(tmp_path_factory.mktemp(name) / "build.duckdb", *breakages)

    return factory
