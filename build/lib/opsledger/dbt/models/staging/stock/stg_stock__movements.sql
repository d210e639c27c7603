{#- Stock events that move units: one row, one movement. transfer_out lands
    in_transit at the destination node; every other movement stays at node_id.
    Cycle counts that matched the system move nothing (quantity is null). -#}
with

source as (
    select * from {{ source('stock', 'stock_events') }}
),

event_types as (
    select * from {{ ref('domain_event_types') }}
    where moves_stock
),

movements as (
    select source.*
    from source
    inner join event_types on source.event_type = event_types.event_type
    where source.quantity is not null
)

select
    event_id,
    event_type,
    {{ utc_timestamp('event_time') }} as event_time,
    sku,
    node_id as from_node_id,
    from_state,
    case when event_type = 'transfer_out' then to_node_id else node_id end as to_node_id,
    to_state,
    quantity,
    unit_cost,
    order_id,
    order_line_id,
    shipment_id,
    transfer_id,
    po_id,
    po_line_id,
    reason_code,
    submission_id,
    source,
    batch_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from movements
