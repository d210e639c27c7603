with

source as (
    select * from {{ source('orders', 'orders_events') }}
    where event_type = 'order_cancelled'
)

select
    event_id as cancellation_id,
    order_id,
    -- null order_line_id: the whole order; null quantity: the whole line
    order_line_id,
    quantity as qty_cancelled,
    reason_code,
    -- the money refunded for the cancelled units (goods never shipped), if any
    amount as refund_amount,
    currency,
    {{ utc_timestamp('event_time') }} as cancelled_at,
    source,
    batch_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from source
