with

source as (
    select * from {{ source('orders', 'orders_events') }}
    where event_type = 'order_placed'
)

select
    order_line_id,
    order_id,
    channel,
    sku,
    quantity as qty_ordered,
    unit_price,
    coalesce(discount, 0) as discount,
    currency,
    customer_id,
    coalesce(customer_trusted, false) as is_customer_trusted,
    service_level,
    node_id as requested_node_id,
    {{ utc_timestamp('event_time') }} as ordered_at,
    {{ utc_timestamp('promised_by') }} as promised_by,
    event_id,
    source,
    batch_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from source
