{{
    config(
        materialized='incremental',
        unique_key='sku',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_rows_where('node_id is null') }}",
    )
}}
{#- The FIFO receipt layers still on hand, allocated to nodes: one row per
    SKU x node x receipt entry, the basis of fct_inventory_aging.

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

    A SKU's layers depend on its own legs only, and ages on the as-of date,
    which moves every SKU's: so this table holds the layers and the mart
    ages them. Incremental: the SKUs with legs loaded since the watermark
    (stock_recompute_from) are allocated again from their whole history; a
    row without a node per recomputed SKU makes delete+insert replace its
    old layers even when nothing is left on hand (the post-hook removes
    those rows). -#}
with

{% if is_incremental() -%}
    recompute as (
        {{ stock_recompute_from(ref('int_stock_legs_unpivoted')) }}
    ),

{% endif -%}
legs as (
    select * from {{ ref('int_stock_legs_unpivoted') }}
    where {{ in_recomputed_keys('sku', 'recompute') }}
),

sku_loads as (
    select
        sku,
        max(ingested_at) as ingested_at
    from legs
    group by sku
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
        entry_id,
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
        layer_axis.entry_id,
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

layers as (
    select
        sku,
        node_id,
        entry_id,
        entered_at,
        quantity
    from allocated
    {% if is_incremental() %}

        union all

        -- replaces the layers of a SKU with nothing left on hand (removed after)
        select
            sku,
            cast(null as {{ dbt.type_string() }}) as node_id,
            cast(null as {{ dbt.type_string() }}) as entry_id,
            cast(null as timestamp) as entered_at,
            0 as quantity
        from sku_loads
    {% endif %}
)

select
    layers.sku,
    layers.node_id,
    layers.entry_id,
    layers.entered_at,
    cast(layers.quantity as {{ dbt.type_bigint() }}) as quantity,
    sku_loads.ingested_at,
    {{ build_id() }} as _build_id
from layers
inner join sku_loads on layers.sku = sku_loads.sku
