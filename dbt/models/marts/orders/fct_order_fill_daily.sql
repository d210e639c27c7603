{#- Fill-rate base per promised date x channel: the numerators and
    denominators of the unit and order fill rates (models/kpis.yml). Lines
    count on their own promised date, orders on the order's promised date. -#}
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

line_facts as (
    select
        cast(promised_by as date) as promised_date,
        channel,
        1 as order_lines,
        qty_ordered as units_ordered,
        qty_cancelled as units_cancelled,
        qty_shipped as units_shipped,
        qty_shipped_on_time as units_shipped_on_time,
        0 as orders,
        0 as orders_fully_cancelled,
        0 as orders_complete_on_time
    from order_lines
    union all
    select
        promised_date,
        channel,
        0 as order_lines,
        0 as units_ordered,
        0 as units_cancelled,
        0 as units_shipped,
        0 as units_shipped_on_time,
        case when is_fully_cancelled then 0 else 1 end as orders,
        case when is_fully_cancelled then 1 else 0 end as orders_fully_cancelled,
        case when is_complete_on_time_one_shipment then 1 else 0 end as orders_complete_on_time
    from orders
),

daily as (
    select
        promised_date,
        channel,
        sum(order_lines) as order_lines,
        sum(units_ordered) as units_ordered,
        sum(units_cancelled) as units_cancelled,
        sum(units_ordered) - sum(units_cancelled) as units_net,
        sum(units_shipped) as units_shipped,
        sum(units_shipped_on_time) as units_shipped_on_time,
        sum(orders) as orders,
        sum(orders_fully_cancelled) as orders_fully_cancelled,
        sum(orders_complete_on_time) as orders_complete_on_time
    from line_facts
    group by promised_date, channel
)

select
    promised_date,
    channel,
    cast(order_lines as {{ dbt.type_bigint() }}) as order_lines,
    cast(units_ordered as {{ dbt.type_bigint() }}) as units_ordered,
    cast(units_cancelled as {{ dbt.type_bigint() }}) as units_cancelled,
    cast(units_net as {{ dbt.type_bigint() }}) as units_net,
    cast(units_shipped as {{ dbt.type_bigint() }}) as units_shipped,
    cast(units_shipped_on_time as {{ dbt.type_bigint() }}) as units_shipped_on_time,
    cast(orders as {{ dbt.type_bigint() }}) as orders,
    cast(orders_fully_cancelled as {{ dbt.type_bigint() }}) as orders_fully_cancelled,
    cast(orders_complete_on_time as {{ dbt.type_bigint() }}) as orders_complete_on_time,
    cast(
        case when units_net > 0 then cast(units_shipped_on_time as double) / units_net end
        as double
    ) as unit_fill_rate,
    cast(
        case when orders > 0 then cast(orders_complete_on_time as double) / orders end
        as double
    ) as order_fill_rate
from daily
