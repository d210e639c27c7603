{#- Every stock event with its times: when it happened (event_time), when the
    sender recorded or sent it (recorded_at, optional in the contract), when
    ingest loaded it (ingested_at); the basis of stock update latency and node
    staleness. Write-back events (app forms) carry a submission_id. -#}
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
    {{ utc_timestamp('recorded_at') }} as recorded_at,
    {{ utc_timestamp('ingested_at') }} as ingested_at,
    batch_id,
    source_file,
    submission_id
from source
