with

source as (
    select * from {{ source('orders', 'orders_events') }}
    where event_type = 'line_substituted'
)

select
    event_id as substitution_id,
    order_id,
    order_line_id,
    original_sku,
    sku as substitute_sku,
    quantity,
    {{ utc_timestamp('event_time') }} as substituted_at,
    source,
    batch_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from source
