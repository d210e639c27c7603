with

source as (
    select * from {{ source('finance', 'finance_events') }}
)

select
    event_id,
    event_type,
    {{ utc_timestamp('event_time') }} as event_time,
    return_id,
    return_line_id,
    order_line_id,
    sku,
    claim_id,
    supplier_id,
    po_id,
    cost_type,
    amount,
    currency,
    source,
    batch_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from source
