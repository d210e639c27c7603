{#- Available-to-sell (ATS) of each order line's SKU on its channel as of the
    moment the order was placed, set-based: every movement into or out of
    `available` at a node serving the channel is a signed delta, each order
    line is a probe row carrying no delta, and one running sum per
    channel x SKU in time order gives the available units at each probe
    (movements at the same instant as the order count as before it).
    ATS = that sum - the channel's safety buffer; oversold units are the units
    ordered beyond it: greatest(0, least(qty_ordered, qty_ordered - ATS)).
    Returns never move units into `available` directly (they go through
    returned / resale_ready and a stock putaway), so stock movements suffice. -#}
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
        quantity as delta
    from movements
    where to_state = 'available'
    union all
    select
        from_node_id as node_id,
        sku,
        event_time,
        -quantity as delta
    from movements
    where from_state = 'available'
),

timeline as (
    select
        channel_nodes.channel_id,
        available_deltas.sku,
        available_deltas.event_time,
        0 as is_probe,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        available_deltas.delta
    from available_deltas
    inner join channel_nodes on available_deltas.node_id = channel_nodes.node_id
    union all
    select
        channel as channel_id,
        sku,
        ordered_at as event_time,
        1 as is_probe,
        order_line_id,
        0 as delta
    from order_lines
),

running as (
    select
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
    select
        order_line_id,
        available_units
    from running
    where is_probe = 1
)

select
    order_lines.order_line_id,
    order_lines.channel,
    order_lines.sku,
    order_lines.ordered_at,
    order_lines.qty_ordered,
    cast(coalesce(probes.available_units, 0) as {{ dbt.type_bigint() }})
        as available_units_at_order,
    cast(coalesce(channels.safety_buffer_units, 0) as {{ dbt.type_bigint() }})
        as safety_buffer_units,
    cast(
        coalesce(probes.available_units, 0) - coalesce(channels.safety_buffer_units, 0)
        as {{ dbt.type_bigint() }}
    ) as available_to_sell_at_order,
    cast(
        greatest(
            0,
            least(
                order_lines.qty_ordered,
                order_lines.qty_ordered
                - (coalesce(probes.available_units, 0) - coalesce(channels.safety_buffer_units, 0))
            )
        ) as {{ dbt.type_bigint() }}
    ) as qty_oversold
from order_lines
left join probes on order_lines.order_line_id = probes.order_line_id
left join channels on order_lines.channel = channels.channel_id
