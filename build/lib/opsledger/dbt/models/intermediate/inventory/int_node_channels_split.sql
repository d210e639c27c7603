{#- Which node serves which channel: one row per (node, channel), from the
    node's pipe-separated channels_served. Matching '|a|b|' against '%|a|%'
    needs no list functions, so it stays portable. -#}
with

nodes as (
    select * from {{ ref('stg_master__nodes') }}
),

channels as (
    select * from {{ ref('stg_master__channels') }}
)

select
    nodes.node_id,
    channels.channel_id
from nodes
inner join channels
    on
        {{ dbt.concat(["'|'", "nodes.channels_served", "'|'"]) }}
        like {{ dbt.concat(["'%|'", "channels.channel_id", "'|%'"]) }}
