{#- One row per stock event a node sent (public): the basis of stock update
    latency (models/kpis.yml) and of node staleness. latency_minutes is the
    latency of fct_stock_update_latency (issue 20): reported_at - event_time,
    from the source's recorded_at, else a live file's arrival, else unknown
    (null); null for write-back events (an app form is not the node's feed). -#}
with

stock_latency as (
    select * from {{ ref('fct_stock_update_latency') }}
)

select
    event_id,
    event_type,
    node_id,
    source,
    event_time,
    ingested_at,
    case when not is_write_back then latency_minutes end as latency_minutes,
    batch_id
from stock_latency
