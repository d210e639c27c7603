with

nodes as (
    select * from {{ ref('stg_master__nodes') }}
),

node_types as (
    select * from {{ ref('domain_node_types') }}
),

node_slas as (
    select * from {{ ref('domain_node_slas') }}
)

select
    nodes.node_id,
    nodes.node_type,
    nodes.node_name,
    nodes.channels_served,
    -- a node's own SLA overrides its node type's (models/domain.yml node_slas)
    cast(
        coalesce(node_slas.stale_after_minutes, node_types.stale_after_minutes)
        as {{ dbt.type_int() }}
    ) as stale_after_minutes,
    nodes.updated_at,
    cast(
        coalesce(node_slas.latency_p95_target_minutes, node_types.latency_p95_target_minutes)
        as {{ dbt.type_int() }}
    ) as latency_p95_target_minutes,
    cast(
        coalesce(node_slas.refund_within_days, node_types.refund_within_days)
        as {{ dbt.type_int() }}
    ) as refund_within_days,
    cast(
        coalesce(node_slas.exception_within_days, node_types.exception_within_days)
        as {{ dbt.type_int() }}
    ) as exception_within_days,
    cast(
        coalesce(node_slas.disposition_within_days, node_types.disposition_within_days)
        as {{ dbt.type_int() }}
    ) as disposition_within_days
from nodes
left join node_types on nodes.node_type = node_types.node_type
left join node_slas on nodes.node_id = node_slas.node_id
