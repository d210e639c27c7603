with

nodes as (
    select * from {{ ref('stg_master__nodes') }}
),

node_types as (
    select * from {{ ref('domain_node_types') }}
)

select
    nodes.node_id,
    nodes.node_type,
    nodes.node_name,
    nodes.channels_served,
    cast(node_types.stale_after_minutes as {{ dbt.type_int() }}) as stale_after_minutes,
    nodes.updated_at
from nodes
left join node_types on nodes.node_type = node_types.node_type
