with

source as (
    select * from {{ source('returns', 'returns_events') }}
)

select
    event_id,
    event_type,
    {{ utc_timestamp('event_time') }} as event_time,
    return_id,
    return_line_id,
    order_id,
    order_line_id,
    sku,
    node_id,
    quantity,
    reason_code,
    coalesce(customer_trusted, false) as is_customer_trusted,
    condition_grade,
    disposition,
    from_state,
    to_state,
    amount,
    currency,
    exchange_order_id,
    claim_id,
    supplier_id,
    submission_id,
    source,
    batch_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from source
