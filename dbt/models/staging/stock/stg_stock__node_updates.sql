{#- Every stock event with its ingest time: the basis of stock update latency
    and node staleness. -#}
with

source as (
    select * from {{ source('stock', 'stock_events') }}
)

select
    event_id,
    event_type,
    node_id,
    source,
    {{ utc_timestamp('event_time') }} as event_time,
    {{ utc_timestamp('ingested_at') }} as ingested_at,
    batch_id
from source
