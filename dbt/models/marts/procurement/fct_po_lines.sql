{#- One row per purchase order line: ordered, confirmed, received (stock
    po_receipt movements), on time in full against the expected date of the
    PO as created, and its lead time. -#}
with

po_lines as (
    select * from {{ ref('stg_procurement__po_lines') }}
),

po_updates as (
    select * from {{ ref('stg_procurement__po_updates') }}
),

receipts as (
    select * from {{ ref('int_po_lines_receipts_aggregated') }}
),

as_of as (
    select * from {{ ref('int_events_as_of_summarised') }}
),

line_updates as (
    select
        po_line_id,
        min(case when event_type = 'po_confirmed' then event_time end) as confirmed_at,
        max(case when event_type = 'po_confirmed' then quantity end) as qty_confirmed,
        max(case when event_type = 'po_confirmed' then expected_date end)
            as confirmed_expected_date,
        min(case when event_type = 'asn' then event_time end) as first_asn_at,
        sum(case when event_type = 'asn' then quantity else 0 end) as qty_asn
    from po_updates
    where po_line_id is not null
    group by po_line_id
),

po_closures as (
    select
        po_id,
        min(event_time) as closed_at
    from po_updates
    where event_type = 'po_closed'
    group by po_id
)

select
    po_lines.po_line_id,
    po_lines.po_id,
    po_lines.supplier_id,
    po_lines.sku,
    po_lines.node_id,
    cast(po_lines.qty_ordered as {{ dbt.type_bigint() }}) as qty_ordered,
    cast(po_lines.unit_cost as decimal(18, 6)) as unit_cost,
    po_lines.currency,
    po_lines.created_at,
    line_updates.confirmed_at,
    cast(line_updates.qty_confirmed as {{ dbt.type_bigint() }}) as qty_confirmed,
    line_updates.confirmed_expected_date,
    line_updates.first_asn_at,
    po_lines.expected_date,
    receipts.first_received_at,
    receipts.last_received_at,
    receipts.completed_at,
    po_closures.closed_at,
    cast(coalesce(receipts.receipt_count, 0) as {{ dbt.type_bigint() }}) as receipt_count,
    cast(coalesce(receipts.qty_received, 0) as {{ dbt.type_bigint() }}) as qty_received,
    cast(coalesce(receipts.qty_received_to_quality_hold, 0) as {{ dbt.type_bigint() }})
        as qty_received_to_quality_hold,
    coalesce(receipts.qty_received, 0) >= po_lines.qty_ordered as is_complete,
    po_lines.expected_date <= cast(as_of.data_as_of as date) as is_due,
    coalesce(cast(receipts.completed_at as date) <= po_lines.expected_date, false)
        as is_on_time_in_full,
    cast(
        cast(
            {{ dbt.datediff('po_lines.created_at', 'receipts.first_received_at', 'second') }}
            as double
        )
        / 86400 as double
    ) as lead_time_days
from po_lines
left join line_updates on po_lines.po_line_id = line_updates.po_line_id
left join receipts on po_lines.po_line_id = receipts.po_line_id
left join po_closures on po_lines.po_id = po_closures.po_id
cross join as_of
