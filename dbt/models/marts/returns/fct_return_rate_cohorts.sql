{#- Return rate by ship-month cohort (models/kpis.yml return_rate_units and
    return_rate_value): units and value authorized for return are attributed to
    the ship month of the original order line (month of its first shipment),
    whenever the return happens. Value = net unit price paid x units. One row
    per ship month x channel x category, plus 'all' rows for each dimension
    and the total. -#}
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
    where qty_shipped > 0
),

return_lines as (
    select * from {{ ref('fct_return_lines') }}
    where authorized_at is not null
),

products as (
    select * from {{ ref('stg_master__products') }}
),

shipped as (
    select
        order_lines.ship_month,
        order_lines.channel,
        coalesce(products.category, 'unknown') as category,
        order_lines.qty_shipped as units_shipped,
        order_lines.net_revenue as value_shipped,
        0 as units_authorized,
        0 as value_authorized
    from order_lines
    left join products on order_lines.sku = products.sku
),

authorized as (
    select
        order_lines.ship_month,
        order_lines.channel,
        coalesce(products.category, 'unknown') as category,
        0 as units_shipped,
        0 as value_shipped,
        return_lines.quantity as units_authorized,
        return_lines.return_value as value_authorized
    from return_lines
    inner join order_lines on return_lines.order_line_id = order_lines.order_line_id
    left join products on order_lines.sku = products.sku
),

facts as (
    select * from shipped
    union all
    select * from authorized
),

by_channel_category as (
    select
        ship_month,
        channel,
        category,
        sum(units_shipped) as units_shipped,
        sum(value_shipped) as value_shipped,
        sum(units_authorized) as units_authorized,
        sum(value_authorized) as value_authorized
    from facts
    group by ship_month, channel, category
),

rolled_up as (
    select * from by_channel_category
    union all
    select
        ship_month,
        channel,
        'all' as category,
        sum(units_shipped) as units_shipped,
        sum(value_shipped) as value_shipped,
        sum(units_authorized) as units_authorized,
        sum(value_authorized) as value_authorized
    from by_channel_category
    group by ship_month, channel
    union all
    select
        ship_month,
        'all' as channel,
        category,
        sum(units_shipped) as units_shipped,
        sum(value_shipped) as value_shipped,
        sum(units_authorized) as units_authorized,
        sum(value_authorized) as value_authorized
    from by_channel_category
    group by ship_month, category
    union all
    select
        ship_month,
        'all' as channel,
        'all' as category,
        sum(units_shipped) as units_shipped,
        sum(value_shipped) as value_shipped,
        sum(units_authorized) as units_authorized,
        sum(value_authorized) as value_authorized
    from by_channel_category
    group by ship_month
)

select
    ship_month,
    channel,
    category,
    cast(units_shipped as {{ dbt.type_bigint() }}) as units_shipped,
    cast(units_authorized as {{ dbt.type_bigint() }}) as units_authorized,
    cast(value_shipped as decimal(18, 2)) as value_shipped,
    cast(value_authorized as decimal(18, 2)) as value_authorized,
    cast(
        case when units_shipped > 0 then cast(units_authorized as double) / units_shipped end
        as double
    ) as return_rate_units,
    cast(
        case
            when value_shipped > 0
                then cast(value_authorized as double) / cast(value_shipped as double)
        end
        as double
    ) as return_rate_value
from rolled_up
