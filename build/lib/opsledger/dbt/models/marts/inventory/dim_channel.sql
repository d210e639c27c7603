with

channels as (
    select * from {{ ref('stg_master__channels') }}
),

node_channels as (
    select * from {{ ref('int_node_channels_split') }}
),

serving_nodes as (
    select
        channel_id,
        count(*) as serving_node_count
    from node_channels
    group by channel_id
)

select
    channels.channel_id,
    channels.channel_name,
    cast(channels.safety_buffer_units as {{ dbt.type_bigint() }}) as safety_buffer_units,
    cast(coalesce(serving_nodes.serving_node_count, 0) as {{ dbt.type_bigint() }})
        as serving_node_count,
    channels.updated_at
from channels
left join serving_nodes on channels.channel_id = serving_nodes.channel_id
