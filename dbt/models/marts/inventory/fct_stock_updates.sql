{#- One row per stock event a node sent (public): the basis of stock update
    latency (models/kpis.yml) and of node staleness. Latency is the time from
    the event to its load into the warehouse, in minutes. -#}
with

node_updates as (
    select * from {{ ref('stg_stock__node_updates') }}
)

select
    event_id,
    event_type,
    node_id,
    source,
    event_time,
    ingested_at,
    cast({{ dbt.datediff('event_time', 'ingested_at', 'second') }} as double) / 60
        as latency_minutes,
    batch_id
from node_updates
