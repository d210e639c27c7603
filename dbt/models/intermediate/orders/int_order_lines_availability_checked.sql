{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- Available-to-sell (ATS) of each order line's SKU on its channel as of the
    moment the order was placed, set-based: every movement into or out of
    `available` at a node serving the channel is a signed delta, each order
    line is a probe row carrying no delta, and one running sum per
    channel x SKU in time order gives the available units at each probe
    (movements at the same instant as the order count as before it).
    ATS = that sum - the channel's safety buffer; oversold units are the units
    ordered beyond it: greatest(0, least(qty_ordered, qty_ordered - ATS)).
    Returns never move units into `available` directly (they go through
    returned / resale_ready and a stock putaway), so stock movements suffice.

    Incremental: a channel x SKU with a movement or an order line loaded after
    the watermark (the latest order-line ingested_at built) is recomputed from
    the time of its earliest such row: the running sum restarts there from the
    sum of the pair's earlier deltas. A node or channel record loaded since
    (channels served, safety buffer) recomputes every pair. -#}
with

order_lines as (
    select * from {{ ref('stg_orders__order_lines') }}
),

movements as (
    select * from {{ ref('stg_stock__movements') }}
    where from_state = 'available' or to_state = 'available'
),

nodes as (
    select * from {{ ref('stg_master__nodes') }}
),

channels as (
    select * from {{ ref('stg_master__channels') }}
),

channel_nodes as (
    -- channels_served is pipe-separated: match the channel id with delimiters
    select
        channels.channel_id,
        nodes.node_id
    from channels
    inner join nodes
        on
            {{ dbt.concat(["'|'", "nodes.channels_served", "'|'"]) }}
            like {{ dbt.concat(["'%|'", "channels.channel_id", "'|%'"]) }}
),

available_deltas as (
    select
        to_node_id as node_id,
        sku,
        event_time,
        quantity as delta,
        ingested_at
    from movements
    where to_state = 'available'
    union all
    select
        from_node_id as node_id,
        sku,
        event_time,
        -quantity as delta,
        ingested_at
    from movements
    where from_state = 'available'
),

channel_deltas as (
    select
        channel_nodes.channel_id,
        available_deltas.sku,
        available_deltas.event_time,
        available_deltas.delta,
        available_deltas.ingested_at
    from available_deltas
    inner join channel_nodes on available_deltas.node_id = channel_nodes.node_id
),

{% if is_incremental() %}
    {%- set watermark = incremental_watermark('ingested_at') %}
    master_changes as (
        select count(*) as changed_records
        from (
            select nodes.node_id
            from nodes
            where nodes.ingested_at > {{ watermark }}
            union all
            select channels.channel_id
            from channels
            where channels.ingested_at > {{ watermark }}
        ) as changed
    ),

    recompute as (
        select
            channel_id,
            sku,
            min(from_time) as from_time
        from (
            select
                channel_id,
                sku,
                min(event_time) as from_time
            from channel_deltas
            where ingested_at > {{ watermark }}
            group by channel_id, sku

            union all

            select
                channel as channel_id,
                sku,
                min(ordered_at) as from_time
            from order_lines
            where ingested_at > {{ watermark }}
            group by channel, sku

            union all

            -- every pair with an order, from the start
            select distinct
                order_lines.channel as channel_id,
                order_lines.sku,
                cast('1900-01-01' as timestamp) as from_time
            from order_lines
            cross join master_changes
            where master_changes.changed_records > 0
        ) as arrivals
        group by channel_id, sku
    ),

    carried as (
        -- the pair's available units before the recomputed range
        select
            channel_deltas.channel_id,
            channel_deltas.sku,
            sum(channel_deltas.delta) as units
        from channel_deltas
        inner join recompute
            on
                channel_deltas.channel_id = recompute.channel_id
                and channel_deltas.sku = recompute.sku
                and channel_deltas.event_time < recompute.from_time
        group by channel_deltas.channel_id, channel_deltas.sku
    ),
{% endif %}

timeline as (
    select
        channel_deltas.channel_id,
        channel_deltas.sku,
        channel_deltas.event_time,
        0 as is_probe,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        channel_deltas.delta
    from channel_deltas
    {% if is_incremental() %}
        inner join recompute
            on
                channel_deltas.channel_id = recompute.channel_id
                and channel_deltas.sku = recompute.sku
                and channel_deltas.event_time >= recompute.from_time
    {% endif %}
    union all
    select
        order_lines.channel as channel_id,
        order_lines.sku,
        order_lines.ordered_at as event_time,
        1 as is_probe,
        order_lines.order_line_id,
        0 as delta
    from order_lines
    {% if is_incremental() %}
        inner join recompute
            on
                order_lines.channel = recompute.channel_id
                and order_lines.sku = recompute.sku
                and order_lines.ordered_at >= recompute.from_time
    {% endif %}
),

running as (
    select
        channel_id,
        sku,
        order_line_id,
        is_probe,
        sum(delta) over (
            partition by channel_id, sku
            order by event_time, is_probe, order_line_id
            rows between unbounded preceding and current row
        ) as available_units
    from timeline
),

probes as (
    {% if is_incremental() %}
        select
            running.order_line_id,
            running.available_units + coalesce(carried.units, 0) as available_units
        from running
        left join carried
            on
                running.channel_id = carried.channel_id
                and running.sku = carried.sku
        where running.is_probe = 1
    {% else %}
        select
            order_line_id,
            available_units
        from running
        where is_probe = 1
    {% endif %}
)

select
    order_lines.order_line_id,
    order_lines.channel,
    order_lines.sku,
    order_lines.ordered_at,
    order_lines.qty_ordered,
    cast(probes.available_units as {{ dbt.type_bigint() }}) as available_units_at_order,
    cast(coalesce(channels.safety_buffer_units, 0) as {{ dbt.type_bigint() }})
        as safety_buffer_units,
    cast(
        probes.available_units - coalesce(channels.safety_buffer_units, 0)
        as {{ dbt.type_bigint() }}
    ) as available_to_sell_at_order,
    cast(
        greatest(
            0,
            least(
                order_lines.qty_ordered,
                order_lines.qty_ordered
                - (probes.available_units - coalesce(channels.safety_buffer_units, 0))
            )
        ) as {{ dbt.type_bigint() }}
    ) as qty_oversold,
    order_lines.ingested_at,
    {{ build_id() }} as _build_id
-- every order line has its probe (in an incremental run: the recomputed ones)
from probes
inner join order_lines on probes.order_line_id = order_lines.order_line_id
left join channels on order_lines.channel = channels.channel_id
