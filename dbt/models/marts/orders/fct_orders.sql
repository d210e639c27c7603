{#- One row per order: is it shipped complete, in one shipment, by the
    promised date? Lines fully cancelled do not count; an order whose lines are
    all cancelled is flagged and left out of the order fill rate. The order's
    promised time is the earliest promised_by of its live lines. -#}
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

movements as (
    select * from {{ ref('stg_stock__movements') }}
    where event_type = 'shipped' and order_line_id is not null
),

order_shipments as (
    select
        order_lines.order_id,
        count(
            distinct coalesce(movements.shipment_id, movements.event_id)
        ) as shipment_count
    from movements
    inner join order_lines on movements.order_line_id = order_lines.order_line_id
    group by order_lines.order_id
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
        cast(sum(qty_shipped_on_time) as {{ dbt.type_bigint() }}) as qty_shipped_on_time
    from order_lines
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
    (
        orders.qty_cancelled < orders.qty_ordered
        and orders.qty_shipped_on_time = orders.qty_ordered - orders.qty_cancelled
        and coalesce(order_shipments.shipment_count, 0) = 1
    ) as is_complete_on_time_one_shipment
from orders
left join order_shipments on orders.order_id = order_shipments.order_id
