with

source as (
    select * from {{ source('stock', 'stock_events') }}
    where event_type = 'picked'
)

select
    event_id as pick_id,
    node_id,
    sku,
    quantity as qty_picked,
    order_id,
    order_line_id,
    {{ utc_timestamp('event_time') }} as picked_at,
    source,
    batch_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from source
