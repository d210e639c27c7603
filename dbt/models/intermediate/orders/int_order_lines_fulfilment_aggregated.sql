{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- Reservations and shipments per order line, from the stock movements that
    carry an order_line_id. A shipment is a distinct shipment_id (the event id
    when the sender gave none); a unit ships on time when its shipped event is
    at or before the line's promised_by. The fulfilment node is the node of the
    first shipment, else of the first reservation.

    Incremental: a line depends on its own events only, so the lines with an
    order line or a movement loaded since the last run (after the latest
    last_ingested_at built) are recomputed whole. -#}
with

order_lines as (
    select * from {{ ref('stg_orders__order_lines') }}
),

movements as (
    select * from {{ ref('stg_stock__movements') }}
    where
        event_type in ('reserved', 'unreserved', 'shipped')
        and order_line_id is not null
),

{% if is_incremental() %}
    {%- set watermark = incremental_watermark('last_ingested_at') %}
    -- read from the staging views, not the CTEs above: a CTE read twice is
    -- materialised whole before the touched lines can filter it
    touched_lines as (
        select new_lines.order_line_id
        from {{ ref('stg_orders__order_lines') }} as new_lines
        where new_lines.ingested_at > {{ watermark }}

        union

        select new_movements.order_line_id
        from {{ ref('stg_stock__movements') }} as new_movements
        where new_movements.ingested_at > {{ watermark }}
    ),
{% endif %}

touched_movements as (
    select * from movements
    where {{ in_recomputed_keys('order_line_id', 'touched_lines') }}
),

touched_order_lines as (
    select * from order_lines
    where {{ in_recomputed_keys('order_line_id', 'touched_lines') }}
),

line_movements as (
    select
        movements.order_line_id,
        movements.event_id,
        movements.event_type,
        movements.event_time,
        movements.sku,
        movements.from_node_id as node_id,
        movements.quantity,
        coalesce(movements.shipment_id, movements.event_id) as shipment_key,
        order_lines.promised_by,
        greatest(movements.ingested_at, order_lines.ingested_at) as ingested_at
    from touched_movements as movements
    inner join touched_order_lines as order_lines
        on movements.order_line_id = order_lines.order_line_id
),

shipments as (
    select
        order_line_id,
        shipment_key,
        min(event_time) as shipped_at,
        sum(quantity) as quantity
    from line_movements
    where event_type = 'shipped'
    group by order_line_id, shipment_key
),

first_shipment as (
    select
        order_line_id,
        quantity as first_shipment_qty
    from (
        select
            *,
            row_number() over (
                partition by order_line_id order by shipped_at, shipment_key
            ) as shipment_rank
        from shipments
    ) as ranked
    where shipment_rank = 1
),

first_node as (
    select
        order_line_id,
        node_id as fulfilment_node_id
    from (
        select
            *,
            row_number() over (
                partition by order_line_id
                order by
                    case when event_type = 'shipped' then 0 else 1 end,
                    event_time,
                    event_id
            ) as node_rank
        from line_movements
        where event_type in ('shipped', 'reserved')
    ) as ranked
    where node_rank = 1
),

aggregated as (
    select
        order_line_id,
        sum(case when event_type = 'reserved' then quantity else 0 end) as qty_reserved,
        sum(case when event_type = 'unreserved' then quantity else 0 end) as qty_unreserved,
        sum(case when event_type = 'shipped' then quantity else 0 end) as qty_shipped,
        sum(
            case when event_type = 'shipped' and event_time <= promised_by then quantity else 0 end
        ) as qty_shipped_on_time,
        count(distinct case when event_type = 'shipped' then shipment_key end) as shipment_count,
        count(distinct case when event_type = 'shipped' then node_id end) as shipping_node_count,
        min(case when event_type = 'reserved' then event_time end) as first_reserved_at,
        min(case when event_type = 'shipped' then event_time end) as first_shipped_at,
        max(case when event_type = 'shipped' then event_time end) as last_shipped_at,
        max(case when event_type = 'shipped' then sku end) as shipped_sku,
        max(ingested_at) as last_ingested_at
    from line_movements
    group by order_line_id
)

-- DuckDB sums bigints into 128-bit integers, which every later read of this
-- table would decompress and compare ~10x slower: cast back to bigint
select
    aggregated.order_line_id,
    cast(aggregated.qty_reserved as {{ dbt.type_bigint() }}) as qty_reserved,
    cast(aggregated.qty_unreserved as {{ dbt.type_bigint() }}) as qty_unreserved,
    cast(aggregated.qty_shipped as {{ dbt.type_bigint() }}) as qty_shipped,
    cast(aggregated.qty_shipped_on_time as {{ dbt.type_bigint() }}) as qty_shipped_on_time,
    aggregated.shipment_count,
    aggregated.shipping_node_count,
    aggregated.first_reserved_at,
    aggregated.first_shipped_at,
    aggregated.last_shipped_at,
    aggregated.shipped_sku,
    aggregated.last_ingested_at,
    cast(coalesce(first_shipment.first_shipment_qty, 0) as {{ dbt.type_bigint() }})
        as first_shipment_qty,
    first_node.fulfilment_node_id,
    {{ build_id() }} as _build_id
from aggregated
left join first_shipment on aggregated.order_line_id = first_shipment.order_line_id
left join first_node on aggregated.order_line_id = first_node.order_line_id
