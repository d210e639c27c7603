{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- One row per order: is it shipped complete, in one shipment, by the
    promised date? Lines fully cancelled do not count; an order whose lines are
    all cancelled is flagged and left out of the order fill rate. The order's
    promised time is the earliest promised_by of its live lines.

    Incremental: an order is recomputed whole when one of its lines has events
    loaded after the watermark (fct_order_lines.last_ingested_at: the line, its
    reservations and shipments, its returns) or a cancellation of it was
    loaded since; nothing else feeds it. cancellation_refund_amount: the money
    refunded by all the order's cancellations (line and whole-order), each
    rounded to 2 dp as the general ledger posts it. -#}
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

cancellations as (
    select * from {{ ref('stg_orders__cancellations') }}
),

movements as (
    select * from {{ ref('stg_stock__movements') }}
    where event_type = 'shipped' and order_line_id is not null
),

{% if is_incremental() %}
    {%- set watermark = incremental_watermark('last_ingested_at') %}
    -- read from the relations, not the CTEs above: a CTE read twice is
    -- materialised whole before the touched orders can filter it
    touched_orders as (
        select new_lines.order_id
        from {{ ref('fct_order_lines') }} as new_lines
        where new_lines.last_ingested_at > {{ watermark }}

        union

        select new_cancellations.order_id
        from {{ ref('stg_orders__cancellations') }} as new_cancellations
        where new_cancellations.ingested_at > {{ watermark }}
    ),
{% endif %}

{%- set in_touched_orders = in_recomputed_keys('order_id', 'touched_orders') %}

recomputed_lines as (
    select * from order_lines
    where {{ in_touched_orders }}
),

order_cancellations as (
    select
        order_id,
        sum(round(refund_amount, 2)) as refund_amount,
        max(ingested_at) as last_ingested_at
    from cancellations
    where {{ in_touched_orders }}
    group by order_id
),

order_shipments as (
    select
        recomputed_lines.order_id,
        count(
            distinct coalesce(movements.shipment_id, movements.event_id)
        ) as shipment_count
    from movements
    inner join recomputed_lines on movements.order_line_id = recomputed_lines.order_line_id
    group by recomputed_lines.order_id
),

orders as (
    select
        order_id,
        min(channel) as channel,
        min(ordered_at) as ordered_at,
        coalesce(
            min(case when qty_ordered > qty_cancelled then promised_by end),
            min(promised_by)
        ) as promised_by,
        count(*) as line_count,
        -- sums of bigints are 128-bit in DuckDB, slow to aggregate again in the app
        cast(sum(qty_ordered) as {{ dbt.type_bigint() }}) as qty_ordered,
        cast(sum(qty_cancelled) as {{ dbt.type_bigint() }}) as qty_cancelled,
        cast(sum(qty_shipped) as {{ dbt.type_bigint() }}) as qty_shipped,
        cast(sum(qty_shipped_on_time) as {{ dbt.type_bigint() }}) as qty_shipped_on_time,
        max(last_ingested_at) as last_ingested_at
    from recomputed_lines
    group by order_id
)

select
    orders.order_id,
    orders.channel,
    orders.ordered_at,
    orders.promised_by,
    cast(orders.promised_by as date) as promised_date,
    orders.line_count,
    orders.qty_ordered,
    orders.qty_cancelled,
    orders.qty_shipped,
    orders.qty_shipped_on_time,
    coalesce(order_shipments.shipment_count, 0) as shipment_count,
    orders.qty_cancelled >= orders.qty_ordered as is_fully_cancelled,
    cast(coalesce(order_cancellations.refund_amount, 0) as decimal(18, 2))
        as cancellation_refund_amount,
    (
        orders.qty_cancelled < orders.qty_ordered
        and orders.qty_shipped_on_time = orders.qty_ordered - orders.qty_cancelled
        and coalesce(order_shipments.shipment_count, 0) = 1
    ) as is_complete_on_time_one_shipment,
    -- the latest load time of the order's own events (the watermark)
    greatest(
        orders.last_ingested_at,
        coalesce(order_cancellations.last_ingested_at, orders.last_ingested_at)
    ) as last_ingested_at,
    {{ build_id() }} as _build_id
from orders
left join order_shipments on orders.order_id = order_shipments.order_id
left join order_cancellations on orders.order_id = order_cancellations.order_id
