"""A small hand-built published warehouse with the contract tables (BRIEF section 8).

Used while the real pipeline is incomplete, and by the unit tests of app/queries
(deterministic: values come from hash() of row numbers, no randomness).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

CHANNELS = ("web", "marketplace_a", "marketplace_b", "store")
NODES = (
    ("DC1", "own_dc", "web|marketplace_a|marketplace_b"),
    ("DC2", "own_dc", "web|marketplace_a"),
    ("3PL1", "3pl", "marketplace_b"),
    ("ST1", "store", "store"),
    ("ST2", "store", "store"),
    ("ST3", "store", "store|web"),
)
CATEGORIES = ("apparel", "electronics", "home", "beauty")
STATES = (
    "available",
    "reserved",
    "in_transit",
    "quality_hold",
    "damaged",
    "returned",
    "resale_ready",
)

SQL = """
create schema marts; create schema domain; create schema ops; create schema raw;

create table marts.dim_channel as
select * from (values ('web', 0), ('marketplace_a', 2), ('marketplace_b', 2), ('store', 1))
    t(channel_id, safety_buffer_units);

create table marts.dim_node as select * from (values {nodes}) t(node_id, node_type, channels_served);

create table marts.dim_sku as
select 'SKU' || lpad(cast(i as varchar), 4, '0') as sku,
    ({cats})[1 + i % 4] as category,
    (['apparel', 'electronics', 'standard', 'hygiene'])[1 + i % 4] as product_class,
    cast(5 + (hash(i) % 50) as decimal(18, 6)) as unit_cost,
    cast(12 + (hash(i) % 90) as decimal(18, 2)) as list_price,
    'SUP' || (i % 5) as supplier_id
from range(1, 121) r(i);

create table marts.fct_stock_on_hand as
select s.sku, n.node_id, st.state,
    cast(1 + hash(s.sku, n.node_id, st.state) % 40 as bigint) as quantity,
    cast(round((1 + hash(s.sku, n.node_id, st.state) % 40) * s.unit_cost, 2) as decimal(18, 2)) as value
from marts.dim_sku s cross join marts.dim_node n cross join (select unnest({states}) as state) st
where hash(s.sku, n.node_id, st.state) % 3 = 0 or st.state = 'available';

create table marts.fct_stock_movements as
select 'M' || i as movement_id, 'E' || i as event_id,
    (['po_receipt', 'reserved', 'shipped', 'status_change', 'return_received'])[1 + i % 5] as event_type,
    timestamp '2025-01-01' + to_minutes(cast(i * 37 % (120 * 1440) as bigint)) as event_time,
    'SKU' || lpad(cast(1 + i % 120 as varchar), 4, '0') as sku,
    ({node_ids})[1 + i % 6] as from_node,
    (['supplier', 'available', 'reserved', 'available', 'customer'])[1 + i % 5] as from_state,
    ({node_ids})[1 + i % 6] as to_node,
    (['available', 'reserved', 'customer', 'quality_hold', 'returned'])[1 + i % 5] as to_state,
    cast(1 + i % 7 as bigint) as quantity,
    cast(10 as decimal(18, 6)) as unit_cost,
    cast((1 + i % 7) * 10 as decimal(18, 2)) as value
from range(1, 6001) r(i);

create table marts.fct_stock_daily as
select d.date, h.sku, h.node_id, h.state,
    cast(greatest(h.quantity - (hash(d.date, h.sku) % 5), 0) as bigint) as quantity
from marts.fct_stock_on_hand h
cross join (select cast(range as date) as date from range(date '2025-04-01', date '2025-05-01', interval 1 day)) d
where h.sku <= 'SKU0030';

create table marts.fct_available_to_sell as
select c.channel_id as channel, s.sku,
    cast(sum(h.quantity) - c.safety_buffer_units as bigint) as available_to_sell,
    c.safety_buffer_units
from marts.fct_stock_on_hand h join marts.dim_node n using (node_id)
join marts.dim_channel c on list_contains(string_split(n.channels_served, '|'), c.channel_id)
join marts.dim_sku s on s.sku = h.sku
where h.state = 'available' group by c.channel_id, s.sku, c.safety_buffer_units;

create table marts.fct_blocked_stock as
select sku, node_id, state, quantity, value,
    cast(hash(sku, node_id) % 200 as integer) as age_days
from marts.fct_stock_on_hand where state in ('quality_hold', 'damaged', 'returned', 'resale_ready');

create table marts.fct_inventory_aging as
select sku, node_id, (['0-30', '31-60', '61-90', '91-180', '181+'])[1 + hash(sku, node_id) % 5] as age_bucket,
    sum(quantity) as quantity, sum(value) as value
from marts.fct_stock_on_hand where state <> 'in_transit' group by all;

create table marts.fct_cycle_counts as
select 'CC' || i as cycle_count_id, timestamp '2025-01-01' + to_days(cast(i % 120 as integer)) as counted_at,
    'SKU' || lpad(cast(1 + i % 120 as varchar), 4, '0') as sku, ({node_ids})[1 + i % 6] as node_id,
    cast(20 as bigint) as system_qty, cast(20 - (case when i % 9 = 0 then 1 + i % 3 else 0 end) as bigint) as counted_qty
from range(1, 301) r(i);

create table marts.fct_order_lines as
select 'O' || (i // 2) as order_id, 'OL' || i as order_line_id,
    ({channels})[1 + (i // 2) % 4] as channel,
    'SKU' || lpad(cast(1 + hash(i) % 120 as varchar), 4, '0') as sku,
    ({node_ids})[1 + hash(i // 2) % 6] as node_id,
    timestamp '2025-01-01' + to_minutes(cast((i // 2) * 53 % (120 * 1440) as bigint)) as ordered_at,
    timestamp '2025-01-01' + to_minutes(cast((i // 2) * 53 % (120 * 1440) as bigint)) + interval 3 day as promised_by,
    cast(1 + i % 4 as bigint) as qty_ordered,
    cast(case when i % 29 = 0 then 1 else 0 end as bigint) as qty_cancelled,
    cast(1 + i % 4 - case when i % 29 = 0 then 1 else 0 end - case when i % 13 = 0 then 1 else 0 end as bigint) as qty_shipped,
    cast(1 + i % 4 - case when i % 29 = 0 then 1 else 0 end - case when i % 13 = 0 then 1 else 0 end
        - case when i % 7 = 0 and i % 4 > 0 then 1 else 0 end as bigint) as qty_shipped_on_time,
    cast(case when i % 17 = 0 then 2 else 1 end as integer) as shipment_count,
    cast(case when i % 31 = 0 then 1 else 0 end as bigint) as qty_oversold,
    cast(round((1 + i % 4 - case when i % 29 = 0 then 1 else 0 end) * (15 + hash(i) % 60), 2) as decimal(18, 2)) as net_revenue,
    timestamp '2025-01-01' + to_minutes(cast((i // 2) * 53 % (120 * 1440) as bigint)) + interval 1 day as first_shipped_at
from range(1, 8001) r(i);

create table marts.fct_orders as
select order_id, min(channel) as channel, min(ordered_at) as ordered_at,
    min(promised_by) as promised_by, cast(min(promised_by) as date) as promised_date,
    count(*) as line_count, sum(qty_ordered) as qty_ordered, sum(qty_cancelled) as qty_cancelled,
    sum(qty_shipped) as qty_shipped, sum(qty_shipped_on_time) as qty_shipped_on_time,
    max(shipment_count) as shipment_count,
    sum(qty_cancelled) >= sum(qty_ordered) as is_fully_cancelled,
    sum(qty_cancelled) < sum(qty_ordered)
        and sum(qty_shipped_on_time) = sum(qty_ordered) - sum(qty_cancelled)
        and max(shipment_count) = 1 as is_complete_on_time_one_shipment
from marts.fct_order_lines group by order_id;

create table marts.fct_return_lines as
select 'R' || i as return_id, 'RL' || i as return_line_id, o.order_line_id, o.sku, o.channel,
    cast(1 as bigint) as quantity,
    (['wrong_size', 'defective', 'changed_mind', 'not_as_described'])[1 + i % 4] as reason,
    o.ordered_at + interval 5 day as requested_at,
    case when i % 10 <> 0 then o.ordered_at + interval 6 day end as authorized_at,
    case when i % 10 not in (0, 1) then o.ordered_at + interval 9 day end as received_at,
    case when i % 10 not in (0, 1, 2) then o.ordered_at + interval 10 day end as inspected_at,
    case when i % 10 not in (0, 1, 2) then (['A', 'B', 'C', 'D'])[1 + i % 4] end as condition_grade,
    case when i % 10 not in (0, 1, 2, 3) then (['restock', 'liquidate', 'scrap', 'return_to_vendor'])[1 + i % 4] end as disposition,
    case when i % 10 not in (0, 1, 2, 3) then o.ordered_at + interval 11 day + to_hours(cast(i % 48 as integer)) end as disposed_at,
    case when i % 10 not in (0, 1, 2) then cast(o.net_revenue / (o.qty_ordered - o.qty_cancelled) as decimal(18, 2)) end as refund_amount,
    case when i % 10 not in (0, 1, 2) then o.ordered_at + interval 10 day + to_hours(cast(i % 96 as integer)) end as refunded_at,
    cast(case when i % 4 = 1 then 4.5 else 0 end as decimal(18, 2)) as recovery_value
from (select *, row_number() over (order by order_line_id) as i from marts.fct_order_lines
      where hash(order_line_id) % 8 = 0 and qty_shipped > 0) o;

alter table marts.fct_order_lines add column qty_return_authorized bigint default 0;
update marts.fct_order_lines set qty_return_authorized = r.qty
from (select order_line_id, sum(quantity) as qty from marts.fct_return_lines
      where authorized_at is not null group by 1) r
where r.order_line_id = fct_order_lines.order_line_id;

create table marts.fct_disposition_backlog as
select received_at as date, sku, 'returned' as state, quantity,
    (['0-30', '31-60', '61-90', '91-180', '181+'])[1 + hash(return_line_id) % 5] as age_bucket
from marts.fct_return_lines where received_at is not null and disposed_at is null;

create table marts.fct_order_exceptions as
select order_line_id, channel, sku, (['backorder', 'partial', 'substitution'])[1 + hash(order_line_id) % 3] as exception_type,
    ordered_at as opened_at, qty_ordered - qty_shipped as quantity,
    (['0-30', '31-60', '61-90', '91-180', '181+'])[1 + hash(order_line_id) % 5] as age_bucket, true as is_open
from marts.fct_order_lines where qty_shipped < qty_ordered - qty_cancelled;

create table marts.fct_gl_entries as
select 'GL' || i as entry_id, 'J' || (i // 2) as journal_id,
    timestamp '2025-01-01' + to_hours(cast(i % (120 * 24) as integer)) as posted_at,
    (['inventory', 'cogs', 'revenue', 'refunds', 'cash'])[1 + i % 5] as account,
    cast(case when i % 2 = 0 then 10 + i % 90 else 0 end as decimal(18, 2)) as debit,
    cast(case when i % 2 = 1 then 10 + i % 70 else 0 end as decimal(18, 2)) as credit,
    'E' || i as source_event_id
from range(1, 2001) r(i);

create table marts.fct_margin_leakage as
select cast(r.refunded_at as date) as date, r.sku, r.channel,
    (['reverse_logistics', 'disposition_loss', 'write_offs', 'refund_without_return'])[1 + hash(r.return_line_id) % 4] as component,
    cast(3 + hash(r.return_line_id) % 20 as decimal(18, 2)) as amount
from marts.fct_return_lines r where r.refunded_at is not null;

create table marts.fct_replenishment_risk as
select sku, cast(hash(sku) % 30 as bigint) as projected_available, cast(10 + hash(sku, 1) % 25 as bigint) as reorder_point,
    hash(sku) % 30 < 10 + hash(sku, 1) % 25 as is_at_risk
from marts.dim_sku;

create table marts.kpi_daily as
with days as (select cast(range as date) as date from range(date '2025-01-01', date '2025-05-01', interval 1 day)),
dims as (
    select 'all' as dimension, 'all' as dimension_value
    union all select 'channel', unnest({channels})
    union all select 'node', unnest({node_ids})
    union all select 'category', unnest({cats})
),
kpis as (select kpi, unit from domain.domain_kpis)
select d.date, k.kpi, x.dimension, x.dimension_value,
    case when k.unit = 'ratio' then (80 + hash(d.date, k.kpi, x.dimension_value) % 20) / 100.0
         else cast(1 + hash(d.date, k.kpi, x.dimension_value) % 100 as double) end as value,
    case when k.unit = 'ratio' then cast(80 + hash(d.date, k.kpi, x.dimension_value) % 20 as double) end as numerator,
    case when k.unit = 'ratio' then 100.0 when k.unit in ('days', 'minutes') then 10.0 end as denominator
from days d cross join kpis k cross join dims x;

create table ops.publications (build_id varchar primary key, published_at timestamp, events_total bigint,
    raw_rows json, dbt_passed integer, dbt_warned integer, dbt_failed integer, gate_success boolean,
    gate_warnings integer, timings json);
insert into ops.publications values ('fixture-1', timestamp '2025-05-01 06:00', 123456, '{{"stock_events": 100}}',
    120, 1, 0, true, 1, '{{}}');

create table ops.gate_results as
select 'fixture-1' as run_id, suite, expectation, severity, success, observed_value
from (values ('inventory', 'conservation', 'error', true, '0'),
             ('orders', 'fill_rate_range', 'error', true, '0.93'),
             ('ingest', 'reconciliation', 'error', true, '0'),
             ('returns', 'refund_after_request', 'warning', false, '3 rows')) t(suite, expectation, severity, success, observed_value);

create table raw.quarantine as
select i as quarantine_id, 'B1' as batch_id, (['orders', 'stock', 'returns'])[1 + i % 3] as source,
    'landing/file' || (i % 4) || '.jsonl' as source_file, cast(i as bigint) as line_number,
    '{{bad json' as raw_text,
    (['malformed_line', 'unknown_sku', 'non_positive_quantity'])[1 + i % 3] as reason,
    'detail ' || i as detail, false as retryable, null::varchar as event_id, null::varchar as event_type,
    timestamp '2025-05-01 05:00' as quarantined_at, null::timestamp as released_at
from range(1, 41) r(i);

create table raw.ingest_files as
select 'h' || i as content_hash, 'landing/f' || i as path, (['orders', 'stock', 'returns'])[1 + i % 3] as source,
    cast(1000 as bigint) as size, 'loaded' as status, cast(500 as bigint) as rows_read, cast(480 as bigint) as loaded,
    cast(7 as bigint) as duplicates, cast(13 as bigint) as quarantined, 'B1' as batch_id,
    timestamp '2025-05-01 05:00' as ingested_at
from range(1, 10) r(i);
"""


def _signed_hashes(sql: str) -> str:
    """hash() is UBIGINT: wrap each call so arithmetic and list indexes stay BIGINT."""
    out, i = [], 0
    while (j := sql.find("hash(", i)) >= 0:
        depth, k = 0, j + 4
        while True:
            depth += {"(": 1, ")": -1}.get(sql[k], 0)
            if depth == 0:
                break
            k += 1
        out.append(sql[i:j] + "cast(" + sql[j : k + 1] + " % 1000003 as bigint)")
        i = k + 1
    out.append(sql[i:])
    return "".join(out)


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def build_fixture_warehouse(path: Path) -> Path:
    """Write the fixture warehouse to `path` (replacing it) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    for p in (tmp, tmp.with_name(tmp.name + ".wal")):
        p.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("create schema domain")
        kpis = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "domain" / "domain_kpis.csv"
        types = kpis.with_name("domain_node_types.csv")
        con.execute(
            f"create table domain.domain_kpis as select * from read_csv('{kpis}', all_varchar=true)"
        )
        con.execute(f"create table domain.domain_node_types as select * from read_csv('{types}')")
        con.execute(_signed_hashes(SQL.replace("create schema domain;", "")).format(
            nodes=", ".join(f"('{n}', '{t}', '{c}')" for n, t, c in NODES),
            node_ids=_list(tuple(n for n, _, _ in NODES)),
            channels=_list(CHANNELS),
            cats=_list(CATEGORIES),
            states=_list(STATES),
        ))  # fmt: skip
        con.execute("checkpoint")
    finally:
        con.close()
    tmp.replace(path)
    return path


if __name__ == "__main__":
    import sys

    print(build_fixture_warehouse(Path(sys.argv[1])))
