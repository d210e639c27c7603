with

source as (
    select * from {{ source('stock', 'stock_events') }}
    where event_type = 'cycle_count'
)

select
    event_id as cycle_count_id,
    node_id,
    sku,
    counted_qty,
    system_qty,
    counted_qty - system_qty as variance_qty,
    {{ utc_timestamp('event_time') }} as counted_at,
    source,
    batch_id
from source
