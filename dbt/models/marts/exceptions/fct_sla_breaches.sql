{#- Service-level breaches (models/domain.yml node SLAs; BRIEF section 6; issue
    20): one row per item that went past its node's SLA, open or since closed.
    Ages are measured to the data's as-of time (int_events_as_of_summarised),
    like the order exceptions' and the disposition backlog's.
    - refund_overdue: a return line received at the node and not refunded within
      refund_within_days of receipt (rejected and exchanged lines owe no refund);
      closed when the refund was paid.
    - exception_overdue: a backorder, partial shipment or pending substitution of
      the fulfilment node open for longer than exception_within_days (a
      backorder no node has taken yet: unallocated_exception_within_days, its
      node null); closed when it closed.
    - disposition_overdue: a return line received at the node without a
      disposition for longer than disposition_within_days; closed at the
      disposition.
    - stock_latency: a node x day whose stock update latency p95 (the node's
      own feed, write-back excluded) was above latency_p95_target_minutes;
      the breach is that day (closed at its end), its age the day's p95.
    - stale_feed: a node that is stale now (marts.fct_node_freshness, judged
      against the clock for a live feed); open, aged from its last report.
    breached_at is when the SLA ran out (started_at + SLA): the open_items KPIs
    count a breach from that day until it closed. -#}
with

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

exceptions as (
    select * from {{ ref('fct_order_exceptions') }}
),

latency as (
    select * from {{ ref('fct_stock_update_latency') }}
    where not is_write_back and latency_minutes is not null
),

freshness as (
    select * from {{ ref('fct_node_freshness') }}
),

nodes as (
    select * from {{ ref('dim_node') }}
),

as_of as (
    select * from {{ ref('int_events_as_of_summarised') }}
),

thresholds as (
    select * from {{ ref('domain_thresholds') }}
),

unallocated_sla as (
    select cast(threshold_value as {{ dbt.type_int() }}) as days
    from thresholds
    where threshold = 'unallocated_exception_within_days'
),

refunds as (
    select
        'refund_overdue' as breach_type,
        return_lines.return_line_id as item_id,
        return_lines.received_node_id as node_id,
        return_lines.channel,
        return_lines.sku,
        return_lines.return_line_id,
        return_lines.order_line_id,
        return_lines.received_at as started_at,
        return_lines.refunded_at as closed_at,
        nodes.refund_within_days * 1440 as sla_minutes
    from return_lines
    inner join nodes on return_lines.received_node_id = nodes.node_id
    where
        return_lines.received_at is not null
        and return_lines.rejected_at is null
        and return_lines.exchange_order_id is null
),

order_exceptions as (
    select
        'exception_overdue' as breach_type,
        exceptions.exception_id as item_id,
        exceptions.fulfilment_node_id as node_id,
        exceptions.channel,
        exceptions.sku,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        exceptions.order_line_id,
        exceptions.opened_at as started_at,
        exceptions.closed_at,
        coalesce(nodes.exception_within_days, unallocated_sla.days) * 1440 as sla_minutes
    from exceptions
    cross join unallocated_sla
    left join nodes on exceptions.fulfilment_node_id = nodes.node_id
    where exceptions.exception_type in ('backorder', 'partial', 'substitution')
),

dispositions as (
    select
        'disposition_overdue' as breach_type,
        return_lines.return_line_id as item_id,
        return_lines.received_node_id as node_id,
        return_lines.channel,
        return_lines.sku,
        return_lines.return_line_id,
        return_lines.order_line_id,
        return_lines.received_at as started_at,
        return_lines.disposed_at as closed_at,
        nodes.disposition_within_days * 1440 as sla_minutes
    from return_lines
    inner join nodes on return_lines.received_node_id = nodes.node_id
    where return_lines.received_at is not null and return_lines.qty_received > 0
),

waits as (
    select * from refunds
    union all
    select * from order_exceptions
    union all
    select * from dispositions
),

waits_aged as (
    select
        waits.*,
        cast({{ dbt.datediff(
            'waits.started_at', 'coalesce(waits.closed_at, as_of.data_as_of)', 'second'
        ) }} as double) / 60 as age_minutes
    from waits
    cross join as_of
),

latency_days as (
    select
        latency.node_id,
        cast(latency.event_time as date) as latency_date,
        {{ percentile_cont_agg('latency.latency_minutes', 0.95) }} as latency_p95_minutes
    from latency
    group by latency.node_id, cast(latency.event_time as date)
),

latency_breaches as (
    select
        'stock_latency' as breach_type,
        {{ dbt.concat(['latency_days.node_id', "':'",
            dbt.cast('latency_days.latency_date', dbt.type_string())]) }} as item_id,
        latency_days.node_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as sku,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        cast(latency_days.latency_date as {{ dbt.type_timestamp() }}) as started_at,
        {{ dbt.dateadd('day', 1, dbt.cast('latency_days.latency_date', dbt.type_timestamp())) }}
            as closed_at,
        nodes.latency_p95_target_minutes as sla_minutes,
        cast(latency_days.latency_p95_minutes as double) as age_minutes
    from latency_days
    inner join nodes on latency_days.node_id = nodes.node_id
    where latency_days.latency_p95_minutes > nodes.latency_p95_target_minutes
),

stale_feeds as (
    select
        'stale_feed' as breach_type,
        node_id as item_id,
        node_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as sku,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        last_reported_at as started_at,
        cast(null as {{ dbt.type_timestamp() }}) as closed_at,
        stale_after_minutes as sla_minutes,
        cast(minutes_since_last_event as double) as age_minutes
    from freshness
    where is_stale and last_reported_at is not null
),

breaches as (
    select * from waits_aged
    where age_minutes > sla_minutes
    union all
    select * from latency_breaches
    union all
    select * from stale_feeds
)

select
    {{ dbt.concat(['breaches.breach_type', "':'", 'breaches.item_id']) }} as breach_id,
    breaches.breach_type,
    breaches.node_id,
    breaches.channel,
    breaches.sku,
    breaches.return_line_id,
    breaches.order_line_id,
    breaches.started_at,
    case
        when breaches.breach_type = 'stock_latency' then breaches.started_at
        else {{ dbt.dateadd('minute', 'breaches.sla_minutes', 'breaches.started_at') }}
    end as breached_at,
    breaches.closed_at,
    breaches.closed_at is null as is_open,
    cast(breaches.sla_minutes as {{ dbt.type_int() }}) as sla_minutes,
    cast(breaches.age_minutes as double) as age_minutes,
    cast(breaches.age_minutes - breaches.sla_minutes as double) as minutes_over_sla,
    as_of.data_as_of
from breaches
cross join as_of
