{{
    config(
        materialized='incremental',
        incremental_strategy='recompute',
        recompute_column='ordered_at',
        recompute_from='stale_attribution_recompute_from',
        on_schema_change='fail',
    )
}}
{#- Oversold units attributed to the stale node (BRIEF section 5: a backorder is
    an order accepted when system stock was stale; issue 20). For each oversold
    line (int_order_lines_availability_checked), the stock the system believed
    available at order time differs from the true stock by the movements into
    or out of `available` that had happened at a node serving the channel but
    that the node had not reported yet (reported_at after the order,
    fct_stock_update_latency). The line's stale node is the node with the most
    such unreported units out of available (net of unreported units in; ties:
    the smallest node id); qty_oversold_stale_node = least(qty_oversold, those
    units); stale_node_minutes_at_order = order time - the node's last report
    (reported_at, else event_time) within the 14 days before the order (null when
    none). Lines without unreported net outflow at any node have no stale node.

    Incremental (strategy recompute): the lines ordered on or after the time
    stale_attribution_recompute_from names are deleted and recomputed, from
    the movements reported after it and the reports of the 14 days before it. -#}
{%- if is_incremental() %}
    {%- set from_time = recompute_bound(
        stale_attribution_recompute_from(incremental_watermark('ingested_at'))
    ) %}
{%- endif %}
with

availability as (
    select * from {{ ref('int_order_lines_availability_checked') }}
),

channel_nodes as (
    select * from {{ ref('int_node_channels_split') }}
),

oversold_skus as (
    select distinct sku from {{ ref('int_order_lines_availability_checked') }}
    where
        qty_oversold > 0
        {%- if is_incremental() %}
            and ordered_at >= {{ from_time }}
        {%- endif %}
),

movements as (
    select * from {{ ref('stg_stock__movements') }}
    where
        (from_state = 'available' or to_state = 'available')
        and sku in (select oversold_skus.sku from oversold_skus)
),

reports as (
    -- the reports a line's staleness reads, 14 days back from its order: in an
    -- incremental run, from 14 days before the first recomputed order
    select
        node_id,
        coalesce(reported_at, event_time) as reported_or_happened_at
    from {{ ref('fct_stock_update_latency') }}
    where
        not is_write_back
        {%- if is_incremental() %}
            and coalesce(reported_at, event_time)
            > {{ dbt.dateadd('day', -14, from_time) }}
        {%- endif %}
),

oversold as (
    select
        order_line_id,
        channel,
        sku,
        ordered_at,
        qty_oversold,
        ingested_at
    from availability
    where
        qty_oversold > 0
        {%- if is_incremental() %}
            and ordered_at >= {{ from_time }}
        {%- endif %}
),

unreported_latency as (
    -- a movement counts for lines ordered before its report: in an incremental
    -- run, only those reported after the first recomputed order
    select
        event_id,
        reported_at
    from {{ ref('fct_stock_update_latency') }}
    where
        not is_write_back
        {%- if is_incremental() %}
            and reported_at > {{ from_time }}
        {%- endif %}
),

available_moves as (
    select
        movements.from_node_id as node_id,
        movements.sku,
        movements.event_time,
        latency.reported_at,
        movements.quantity as units_out
    from movements
    inner join unreported_latency as latency on movements.event_id = latency.event_id
    where movements.from_state = 'available'
    union all
    select
        movements.to_node_id as node_id,
        movements.sku,
        movements.event_time,
        latency.reported_at,
        -movements.quantity as units_out
    from movements
    inner join unreported_latency as latency on movements.event_id = latency.event_id
    where movements.to_state = 'available'
),

unreported as (
    select
        oversold.order_line_id,
        available_moves.node_id,
        sum(available_moves.units_out) as units
    from oversold
    inner join channel_nodes on oversold.channel = channel_nodes.channel_id
    inner join available_moves
        on
            oversold.sku = available_moves.sku
            and channel_nodes.node_id = available_moves.node_id
            and oversold.ordered_at >= available_moves.event_time
            and oversold.ordered_at < available_moves.reported_at
    group by oversold.order_line_id, available_moves.node_id
),

ranked as (
    select
        order_line_id,
        node_id,
        units,
        row_number() over (
            partition by order_line_id order by units desc, node_id asc
        ) as node_rank
    from unreported
    where units > 0
),

stale_nodes as (
    select
        oversold.order_line_id,
        oversold.ordered_at,
        oversold.qty_oversold,
        oversold.ingested_at,
        ranked.node_id,
        ranked.units
    from oversold
    inner join ranked on oversold.order_line_id = ranked.order_line_id
    where ranked.node_rank = 1
),

last_reports as (
    select
        stale_nodes.order_line_id,
        max(reports.reported_or_happened_at) as last_reported_at
    from stale_nodes
    inner join reports
        on
            stale_nodes.node_id = reports.node_id
            and stale_nodes.ordered_at >= reports.reported_or_happened_at
            and {{ dbt.dateadd('day', -14, 'stale_nodes.ordered_at') }}
            < reports.reported_or_happened_at
    group by stale_nodes.order_line_id
)

select
    stale_nodes.order_line_id,
    stale_nodes.ordered_at,
    stale_nodes.node_id as stale_node_id,
    cast(stale_nodes.units as {{ dbt.type_bigint() }}) as unreported_units,
    cast(
        {{ dbt.datediff('last_reports.last_reported_at', 'stale_nodes.ordered_at', 'minute') }}
        as {{ dbt.type_bigint() }}
    ) as stale_node_minutes_at_order,
    cast(
        least(stale_nodes.qty_oversold, stale_nodes.units) as {{ dbt.type_bigint() }}
    ) as qty_oversold_stale_node,
    stale_nodes.ingested_at,
    {{ build_id() }} as _build_id
from stale_nodes
left join last_reports on stale_nodes.order_line_id = last_reports.order_line_id
