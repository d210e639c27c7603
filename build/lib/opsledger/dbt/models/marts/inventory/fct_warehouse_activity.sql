{#- One row per warehouse activity event (public): supplier receipts,
    picks, shipments to customers and return inspections, with the node that
    did the work, the SKU, the units and the order line's channel where there
    is one. The fact of the warehouse productivity KPIs (models/kpis.yml). -#}
with

movements as (
    select * from {{ ref('fct_stock_movements') }}
),

picks as (
    select * from {{ ref('stg_stock__picks') }}
),

return_events as (
    select * from {{ ref('stg_returns__return_events') }}
),

order_lines as (
    select * from {{ ref('stg_orders__order_lines') }}
),

receipts as (
    select
        movement_id as activity_id,
        event_id,
        'received' as activity,
        event_time,
        to_node as node_id,
        sku,
        quantity,
        order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        po_id,
        batch_id
    from movements
    where event_type = 'po_receipt'
),

shipments as (
    select
        movement_id as activity_id,
        event_id,
        'shipped' as activity,
        event_time,
        from_node as node_id,
        sku,
        quantity,
        order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        po_id,
        batch_id
    from movements
    where event_type = 'shipped' and to_state = 'customer'
),

picked as (
    select
        pick_id as activity_id,
        pick_id as event_id,
        'picked' as activity,
        picked_at as event_time,
        node_id,
        sku,
        qty_picked as quantity,
        order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        cast(null as {{ dbt.type_string() }}) as po_id,
        batch_id
    from picks
),

inspected as (
    select
        event_id as activity_id,
        event_id,
        'inspected' as activity,
        event_time,
        node_id,
        sku,
        quantity,
        order_line_id,
        return_line_id,
        cast(null as {{ dbt.type_string() }}) as po_id,
        batch_id
    from return_events
    where event_type = 'return_inspected'
),

activity as (
    select * from receipts
    union all
    select * from shipments
    union all
    select * from picked
    union all
    select * from inspected
)

select
    activity.activity_id,
    activity.event_id,
    activity.activity,
    activity.event_time,
    activity.node_id,
    activity.sku,
    order_lines.channel,
    cast(activity.quantity as {{ dbt.type_bigint() }}) as quantity,
    activity.order_line_id,
    activity.return_line_id,
    activity.po_id,
    activity.batch_id
from activity
left join order_lines on activity.order_line_id = order_lines.order_line_id
