{#- Receipts per purchase order line from the stock po_receipt movements.
    po_line_id is optional on a receipt: without it the receipt is matched to
    the line of the same po_id and SKU. completed_at is the receipt at which
    the cumulative units received first reached the units ordered. -#}
with

po_lines as (
    select * from {{ ref('stg_procurement__po_lines') }}
),

movements as (
    select * from {{ ref('stg_stock__movements') }}
    where event_type = 'po_receipt'
),

receipts as (
    -- two branches rather than one left join whose condition also tests
    -- po_line_id is null: DuckDB plans that one as a nested loop
    select
        po_line_id,
        event_id,
        event_time,
        quantity,
        unit_cost,
        to_state
    from movements
    where po_line_id is not null

    union all

    select
        po_lines.po_line_id,
        movements.event_id,
        movements.event_time,
        movements.quantity,
        movements.unit_cost,
        movements.to_state
    from movements
    inner join po_lines
        on
            movements.po_id = po_lines.po_id
            and movements.sku = po_lines.sku
    where movements.po_line_id is null
),

cumulated as (
    select
        receipts.*,
        po_lines.qty_ordered,
        sum(receipts.quantity) over (
            partition by receipts.po_line_id
            order by receipts.event_time, receipts.event_id
            rows between unbounded preceding and current row
        ) as cumulative_received
    from receipts
    inner join po_lines on receipts.po_line_id = po_lines.po_line_id
)

select
    po_line_id,
    count(*) as receipt_count,
    -- sums of bigints are 128-bit in DuckDB: cast back for every later read
    cast(sum(quantity) as {{ dbt.type_bigint() }}) as qty_received,
    cast(
        sum(case when to_state = 'quality_hold' then quantity else 0 end) as {{ dbt.type_bigint() }}
    ) as qty_received_to_quality_hold,
    min(event_time) as first_received_at,
    max(event_time) as last_received_at,
    min(case when cumulative_received >= qty_ordered then event_time end) as completed_at
from cumulated
group by po_line_id
