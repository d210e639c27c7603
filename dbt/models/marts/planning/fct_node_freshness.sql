{#- Stock feed freshness per node (models/kpis.yml stock update latency; BRIEF
    section 6): the last stock event and the last ingest of each node, the
    latency ingested_at - event_time of its stock events (p50, p95, in
    minutes), and whether the node is stale: no stock event for longer than
    its node type's stale_after_minutes before data_as_of, the latest stock
    event time of all nodes (not the wall clock, so a rebuild gives the same
    answer). Limitation: ingested_at is the wall-clock time of the ingest
    run; with simulated data generated and ingested in one go, latency measures
    the gap between the simulated timeline and the ingest run, not the
    simulated delivery delays (meaningful for real feeds delivered as they
    happen). -#}
with

updates as (
    select * from {{ ref('stg_stock__node_updates') }}
),

nodes as (
    select * from {{ ref('dim_node') }}
),

as_of as (
    select max(event_time) as data_as_of from updates
),

latencies as (
    select
        node_id,
        event_time,
        ingested_at,
        cast({{ dbt.datediff('event_time', 'ingested_at', 'second') }} as double)
        / 60 as latency_minutes
    from updates
),

per_node as (
    select
        node_id,
        count(*) as stock_events,
        max(event_time) as last_event_at,
        max(ingested_at) as last_ingested_at,
        {{ percentile_cont_agg('latency_minutes', 0.5) }} as latency_p50_minutes,
        {{ percentile_cont_agg('latency_minutes', 0.95) }} as latency_p95_minutes
    from latencies
    group by node_id
)

select
    nodes.node_id,
    nodes.node_type,
    cast(coalesce(per_node.stock_events, 0) as {{ dbt.type_bigint() }}) as stock_events,
    per_node.last_event_at,
    per_node.last_ingested_at,
    cast(per_node.latency_p50_minutes as double) as latency_p50_minutes,
    cast(per_node.latency_p95_minutes as double) as latency_p95_minutes,
    nodes.stale_after_minutes,
    as_of.data_as_of,
    cast(
        {{ dbt.datediff('per_node.last_event_at', 'as_of.data_as_of', 'minute') }}
        as {{ dbt.type_bigint() }}
    ) as minutes_since_last_event,
    coalesce(
        {{ dbt.datediff('per_node.last_event_at', 'as_of.data_as_of', 'minute') }}
        > nodes.stale_after_minutes,
        true
    ) as is_stale
from nodes
cross join as_of
left join per_node on nodes.node_id = per_node.node_id
