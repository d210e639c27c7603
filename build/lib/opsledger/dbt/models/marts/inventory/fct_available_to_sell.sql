{#- Available-to-sell now, per SKU x channel: units in state available at the
    nodes that serve the channel, less the channel's safety buffer (per SKU),
    never below 0. Every SKU x channel pair has a row. -#}
with

on_hand as (
    select * from {{ ref('fct_stock_on_hand') }}
),

skus as (
    select * from {{ ref('dim_sku') }}
),

channels as (
    select * from {{ ref('dim_channel') }}
),

node_channels as (
    select * from {{ ref('int_node_channels_split') }}
),

available_by_channel as (
    select
        on_hand.sku,
        node_channels.channel_id,
        sum(on_hand.quantity) as available_qty,
        count(*) as stocked_node_count
    from on_hand
    inner join node_channels on on_hand.node_id = node_channels.node_id
    where on_hand.state = 'available'
    group by on_hand.sku, node_channels.channel_id
),

sku_channels as (
    select
        skus.sku,
        channels.channel_id,
        channels.safety_buffer_units,
        coalesce(available_by_channel.available_qty, 0) as available_qty,
        coalesce(available_by_channel.stocked_node_count, 0) as stocked_node_count
    from skus
    cross join channels
    left join available_by_channel
        on
            skus.sku = available_by_channel.sku
            and channels.channel_id = available_by_channel.channel_id
)

select
    sku,
    channel_id as channel,
    cast(available_qty as {{ dbt.type_bigint() }}) as available_qty,
    cast(safety_buffer_units as {{ dbt.type_bigint() }}) as safety_buffer_units,
    cast(
        case
            when available_qty - safety_buffer_units > 0 then available_qty - safety_buffer_units
            else 0
        end as {{ dbt.type_bigint() }}
    ) as available_to_sell,
    cast(stocked_node_count as {{ dbt.type_bigint() }}) as stocked_node_count
from sku_channels
