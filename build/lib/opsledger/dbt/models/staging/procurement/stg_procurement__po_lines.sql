with

source as (
    select * from {{ source('procurement', 'procurement_events') }}
    where event_type = 'po_created'
)

select
    po_line_id,
    po_id,
    supplier_id,
    sku,
    node_id,
    quantity as qty_ordered,
    unit_cost,
    currency,
    expected_at as expected_date,
    {{ utc_timestamp('event_time') }} as created_at,
    event_id,
    source,
    batch_id
from source
