{#- Stock feed freshness per node (models/kpis.yml stock update latency; BRIEF
    section 6; issue 20), from fct_stock_update_latency without write-back
    events (an app form is not the node's feed, so a submission changes no
    node's staleness):
    - latency p50 / p95 over the node's events whose latency is known, against
      the node's latency_p95_target_minutes;
    - staleness against the clock: the feed is live when its newest stock event
      is within backfill_after_minutes (models/domain.yml) of the clock
      (clock_now(): the build's time, or a pinned clock); a live node is stale
      when it sent nothing (last reported_at, else event_time) for longer than
      its stale_after_minutes before the clock. A historical back-fill is judged
      at its own end (data_ends_at) and says so: "data ends <date>".
    judged_until is the clock time at which this row's is_live or is_stale
    would change with no new event (the feed passes backfill_after_minutes, or
    the node passes stale_after_minutes): until then a refresh with nothing new
    judges every node the same (opsledger.refresh skips such a build). -#}
with

latency as (
    select * from {{ ref('fct_stock_update_latency') }}
    where not is_write_back
),

nodes as (
    select * from {{ ref('dim_node') }}
),

thresholds as (
    select * from {{ ref('domain_thresholds') }}
),

backfill_after as (
    select cast(threshold_value as double) as minutes
    from thresholds
    where threshold = 'backfill_after_minutes'
),

feed as (
    select
        {{ clock_now() }} as clock_at,
        max(latency.event_time) as data_ends_at
    from latency
),

judged as (
    select
        feed.clock_at,
        feed.data_ends_at,
        backfill_after.minutes as backfill_after_minutes,
        coalesce(
            {{ dbt.datediff('feed.data_ends_at', 'feed.clock_at', 'minute') }}
            <= backfill_after.minutes,
            false
        ) as is_live
    from feed
    cross join backfill_after
),

per_node as (
    select
        node_id,
        count(*) as stock_events,
        count(latency_minutes) as events_with_latency,
        max(event_time) as last_event_at,
        max(coalesce(reported_at, event_time)) as last_reported_at,
        max(ingested_at) as last_ingested_at,
        {{ percentile_cont_agg('latency_minutes', 0.5) }} as latency_p50_minutes,
        {{ percentile_cont_agg('latency_minutes', 0.95) }} as latency_p95_minutes
    from latency
    group by node_id
),

measured as (
    select
        nodes.node_id,
        nodes.node_type,
        coalesce(per_node.stock_events, 0) as stock_events,
        coalesce(per_node.events_with_latency, 0) as events_with_latency,
        per_node.last_event_at,
        per_node.last_reported_at,
        per_node.last_ingested_at,
        per_node.latency_p50_minutes,
        per_node.latency_p95_minutes,
        nodes.latency_p95_target_minutes,
        nodes.stale_after_minutes,
        judged.clock_at,
        judged.data_ends_at,
        judged.is_live,
        judged.backfill_after_minutes,
        case when judged.is_live then judged.clock_at else judged.data_ends_at end as data_as_of
    from nodes
    cross join judged
    left join per_node on nodes.node_id = per_node.node_id
),

aged as (
    select
        *,
        case
            when last_reported_at is not null
                then greatest(0, {{ dbt.datediff('last_reported_at', 'data_as_of', 'minute') }})
        end as minutes_since_last_event
    from measured
),

flagged as (
    select
        *,
        coalesce(minutes_since_last_event > stale_after_minutes, true) as is_stale,
        coalesce(latency_p95_minutes > latency_p95_target_minutes, false)
            as is_latency_breached
    from aged
),

-- datediff in minutes counts minute boundaries: a difference first exceeds n
-- minutes at the start of minute n + 1 after the earlier time's minute
-- (the intervals in parentheses: dbt-spark's dateadd multiplies them unparenthesised)
judged_until as (
    select
        *,
        case
            -- a back-fill is judged at its own end: the clock changes nothing
            when is_live then least(
                {{ dbt.dateadd('minute', '(backfill_after_minutes + 1)',
                    dbt.date_trunc('minute', 'data_ends_at')) }},
                case
                    when not is_stale
                        then {{ dbt.dateadd('minute', '(stale_after_minutes + 1)',
                            dbt.date_trunc('minute', 'last_reported_at')) }}
                end
            )
        end as judged_until
    from flagged
)

select
    node_id,
    node_type,
    cast(stock_events as {{ dbt.type_bigint() }}) as stock_events,
    last_event_at,
    last_ingested_at,
    cast(latency_p50_minutes as double) as latency_p50_minutes,
    cast(latency_p95_minutes as double) as latency_p95_minutes,
    stale_after_minutes,
    data_as_of,
    cast(minutes_since_last_event as {{ dbt.type_bigint() }}) as minutes_since_last_event,
    is_stale,
    last_reported_at,
    cast(events_with_latency as {{ dbt.type_bigint() }}) as events_with_latency,
    latency_p95_target_minutes,
    is_latency_breached,
    case when is_live then 'live' else 'backfill' end as feed_mode,
    clock_at,
    data_ends_at,
    case
        when is_live then 'live feed'
        else {{ dbt.concat(["'historical back-fill: data ends '",
            dbt.cast('cast(data_ends_at as date)', dbt.type_string())]) }}
    end as feed_note,
    case
        when stock_events = 0 then 'stale: no stock event received'
        when minutes_since_last_event > stale_after_minutes
            then {{ dbt.concat(["'stale: nothing sent for '",
                dbt.cast('minutes_since_last_event', dbt.type_string()),
                "' min (SLA '", dbt.cast('stale_after_minutes', dbt.type_string()), "' min)'"]) }}
        when latency_p95_minutes > latency_p95_target_minutes
            then {{ dbt.concat(["'late: latency p95 '",
                dbt.cast('cast(round(latency_p95_minutes) as ' ~ dbt.type_bigint() ~ ')',
                    dbt.type_string()),
                "' min (target '", dbt.cast('latency_p95_target_minutes', dbt.type_string()),
                "' min)'"]) }}
        when events_with_latency = 0 then 'latency unknown (no recorded or live arrival times)'
        else 'fresh'
    end as status_note,
    judged_until
from judged_until
