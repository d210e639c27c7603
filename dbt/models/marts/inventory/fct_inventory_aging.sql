{#- Inventory aging now: FIFO receipt layers of on-hand units per SKU x node x
    age bucket, over all internal states (available, reserved, in_transit and
    the blocked states), so the quantities per SKU x node equal on-hand.

    1. Receipt layers are SKU-level: a unit's receipt date is when it entered
       the company from outside (supplier receipt, customer return, found
       stock: any movement from an external state into an internal one).
       Exits to outside consume the oldest layers first, so the remaining
       layers are the newest entries covering the SKU's on-hand. Transfers and
       state changes are internal and keep the unit's receipt date.
    2. Layers are allocated to nodes oldest first, to the nodes in the order
       of how long they have held their units (the node's oldest remaining
       arrival under node-level FIFO, where an arrival is an entry from
       outside or from another node), ties by node_id: both sides are laid on
       one cumulative axis and intersected, so every node gets exactly its
       on-hand.
    Age = days from the layer's receipt date to the as-of date (last movement
    date); value at the SKU's current weighted-average cost. -#}
with

legs as (
    select * from {{ ref('int_stock_legs_unpivoted') }}
),

skus as (
    select * from {{ ref('dim_sku') }}
),

as_of as (
    select cast(max(event_time) as date) as as_of_date
    from legs
),

sku_on_hand as (
    select
        sku,
        sum(qty_delta) as on_hand_qty
    from legs
    group by sku
    having sum(qty_delta) > 0
),

node_on_hand as (
    select
        sku,
        node_id,
        sum(qty_delta) as on_hand_qty
    from legs
    group by sku, node_id
    having sum(qty_delta) > 0
),

receipt_entries as (
    select
        sku,
        movement_id as entry_id,
        event_time as entered_at,
        qty_delta as entry_qty
    from legs
    where qty_delta > 0 and is_external_counterpart
),

node_arrivals as (
    select
        sku,
        node_id,
        movement_id as entry_id,
        event_time as entered_at,
        qty_delta as entry_qty
    from legs
    where
        qty_delta > 0
        and (is_external_counterpart or counterpart_node_id <> node_id)
),

sku_layers as (
    {{ fifo_remaining_layers('receipt_entries', 'sku_on_hand', ['sku']) }}
),

node_layers as (
    {{ fifo_remaining_layers('node_arrivals', 'node_on_hand', ['sku', 'node_id']) }}
),

node_order as (
    select
        node_on_hand.sku,
        node_on_hand.node_id,
        node_on_hand.on_hand_qty,
        min(node_layers.entered_at) as oldest_arrival_at
    from node_on_hand
    left join node_layers
        on
            node_on_hand.sku = node_layers.sku
            and node_on_hand.node_id = node_layers.node_id
    group by node_on_hand.sku, node_on_hand.node_id, node_on_hand.on_hand_qty
),

node_axis as (
    select
        sku,
        node_id,
        sum(on_hand_qty) over (
            partition by sku
            order by oldest_arrival_at, node_id
            rows between unbounded preceding and current row
        ) as axis_end,
        on_hand_qty
    from node_order
),

layer_axis as (
    select
        sku,
        entered_at,
        sum(remaining_qty) over (
            partition by sku
            order by entered_at, entry_id
            rows between unbounded preceding and current row
        ) as axis_end,
        remaining_qty
    from sku_layers
),

allocated as (
    select
        node_axis.sku,
        node_axis.node_id,
        layer_axis.entered_at,
        least(layer_axis.axis_end, node_axis.axis_end)
        - greatest(
            layer_axis.axis_end - layer_axis.remaining_qty,
            node_axis.axis_end - node_axis.on_hand_qty
        ) as quantity
    from node_axis
    inner join layer_axis
        on
            node_axis.sku = layer_axis.sku
            and layer_axis.axis_end - layer_axis.remaining_qty < node_axis.axis_end
            and node_axis.axis_end - node_axis.on_hand_qty < layer_axis.axis_end
),

aged as (
    select
        allocated.sku,
        allocated.node_id,
        allocated.quantity,
        allocated.entered_at,
        {{ dbt.datediff(
            'cast(allocated.entered_at as date)', 'as_of.as_of_date', 'day'
        ) }} as age_days
    from allocated
    cross join as_of
),

classified as (
    select
        *,
        case
            when age_days <= 30 then '0-30'
            when age_days <= 60 then '31-60'
            when age_days <= 90 then '61-90'
            when age_days <= 180 then '91-180'
            else '181+'
        end as age_bucket,
        case
            when age_days <= 30 then 1
            when age_days <= 60 then 2
            when age_days <= 90 then 3
            when age_days <= 180 then 4
            else 5
        end as age_bucket_order
    from aged
),

bucketed as (
    select
        sku,
        node_id,
        age_bucket,
        age_bucket_order,
        sum(quantity) as quantity,
        min(entered_at) as oldest_received_at,
        sum(quantity * age_days) * 1.0 / sum(quantity) as avg_age_days
    from classified
    group by sku, node_id, age_bucket, age_bucket_order
)

select
    bucketed.sku,
    bucketed.node_id,
    bucketed.age_bucket,
    cast(bucketed.age_bucket_order as {{ dbt.type_int() }}) as age_bucket_order,
    cast(bucketed.quantity as {{ dbt.type_bigint() }}) as quantity,
    -- an unknown cost values nothing: null, never 0
    cast(
        case when skus.cost_basis = 'unknown' then null else skus.unit_cost end
        as decimal(18, 6)
    ) as unit_cost,
    cast(
        case
            when skus.cost_basis = 'unknown' then null
            else round(bucketed.quantity * skus.unit_cost, 2)
        end as decimal(18, 2)
    ) as value,  -- noqa: RF04
    bucketed.oldest_received_at,
    cast(round(bucketed.avg_age_days, 1) as decimal(9, 1)) as avg_age_days,
    as_of.as_of_date
from bucketed
left join skus on bucketed.sku = skus.sku
cross join as_of
