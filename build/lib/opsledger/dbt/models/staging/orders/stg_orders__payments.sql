with

source as (
    select * from {{ source('orders', 'orders_events') }}
    where event_type = 'payment_captured'
)

select
    event_id as payment_event_id,
    payment_id,
    order_id,
    amount,
    currency,
    {{ utc_timestamp('event_time') }} as captured_at,
    source,
    batch_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from source
