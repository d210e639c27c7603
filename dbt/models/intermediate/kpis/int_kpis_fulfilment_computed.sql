{#- kpi_daily rows of the fulfilment KPIs (models/kpis.yml): unit_fill_rate,
    order_fill_rate (by promised date, up to the latest stock movement date:
    lines not yet due are left out), oversold_units (by order date),
    units_shipped and units_picked (by event date), open_order_exceptions
    (snapshot: open backorder, partial and substitution exceptions at the end
    of each day, from the first exception to the latest data date). -#}
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

exceptions as (
    select * from {{ ref('fct_order_exceptions') }}
),

movements as (
    select * from {{ ref('fct_stock_movements') }}
),

picks as (
    select * from {{ ref('stg_stock__picks') }}
),

skus as (
    select * from {{ ref('dim_sku') }}
),

as_of as (
    select max(cast(event_time as date)) as as_of_date from movements
),

lines as (
    select
        cast(order_lines.promised_by as date) as promised_date,
        cast(order_lines.ordered_at as date) as ordered_date,
        order_lines.channel,
        order_lines.fulfilment_node_id as node,
        skus.category,
        order_lines.qty_shipped_on_time,
        order_lines.qty_ordered - order_lines.qty_cancelled as qty_net,
        order_lines.qty_oversold
    from order_lines
    left join skus on order_lines.sku = skus.sku
),

due_lines as (
    select lines.*
    from lines
    cross join as_of
    where lines.promised_date <= as_of.as_of_date
),

due_orders as (
    select
        orders.promised_date,
        orders.channel,
        case when orders.is_complete_on_time_one_shipment then 1 else 0 end as is_filled
    from orders
    cross join as_of
    where not orders.is_fully_cancelled and orders.promised_date <= as_of.as_of_date
),

shipments as (
    select
        cast(movements.event_time as date) as event_date,
        movements.from_node as node,
        order_lines.channel,
        movements.quantity
    from movements
    left join order_lines on movements.order_line_id = order_lines.order_line_id
    where movements.event_type = 'shipped' and movements.to_state = 'customer'
),

picked as (
    select
        cast(picked_at as date) as event_date,
        node_id as node,
        qty_picked
    from picks
),

exception_deltas as (
    select
        'all' as dimension,
        'all' as dimension_value,
        cast(opened_at as date) as date,  -- noqa: RF04
        1 as delta
    from exceptions
    where exception_type in ('backorder', 'partial', 'substitution')

    union all

    select
        'all' as dimension,
        'all' as dimension_value,
        cast(closed_at as date) as date,  -- noqa: RF04
        -1 as delta
    from exceptions
    where exception_type in ('backorder', 'partial', 'substitution') and closed_at is not null

    union all

    select
        'channel' as dimension,
        coalesce(channel, 'unknown') as dimension_value,
        cast(opened_at as date) as date,  -- noqa: RF04
        1 as delta
    from exceptions
    where exception_type in ('backorder', 'partial', 'substitution')

    union all

    select
        'channel' as dimension,
        coalesce(channel, 'unknown') as dimension_value,
        cast(closed_at as date) as date,  -- noqa: RF04
        -1 as delta
    from exceptions
    where exception_type in ('backorder', 'partial', 'substitution') and closed_at is not null
),

exception_bounds as (
    select
        min(exception_deltas.date) as first_date,
        max(as_of.as_of_date) as last_date
    from exception_deltas
    cross join as_of
),

exception_calendar as (
    {{ calendar_days('exception_bounds') }}
),

exception_running as (
    select
        dimension,
        dimension_value,
        date as valid_from,
        lead(date) over (partition by dimension, dimension_value order by date) as valid_to,
        sum(sum(delta)) over (
            partition by dimension, dimension_value
            order by date
            rows between unbounded preceding and current row
        ) as open_exceptions
    from exception_deltas
    group by dimension, dimension_value, date
),

open_exceptions as (
    select
        exception_calendar.date_day as date,  -- noqa: RF04
        'open_order_exceptions' as kpi,
        'snapshot' as aggregation,
        exception_running.dimension,
        exception_running.dimension_value,
        cast(exception_running.open_exceptions as double) as value,  -- noqa: RF04
        cast(exception_running.open_exceptions as double) as numerator,
        cast(null as double) as denominator
    from exception_running
    inner join exception_calendar
        on
            exception_running.valid_from <= exception_calendar.date_day
            and (
                exception_running.valid_to is null
                or exception_running.valid_to > exception_calendar.date_day
            )
    where exception_running.open_exceptions <> 0 or exception_running.dimension = 'all'
)

{{ kpi_rollup('due_lines', 'unit_fill_rate', ['channel', 'node', 'category'], 'promised_date',
    'sum(qty_shipped_on_time)', 'sum(qty_net)') }}

union all

{{ kpi_rollup('due_orders', 'order_fill_rate', ['channel'], 'promised_date',
    'sum(is_filled)', 'count(*)') }}

union all

{{ kpi_rollup('lines', 'oversold_units', ['channel', 'category'], 'ordered_date',
    'sum(qty_oversold)', aggregation='sum') }}

union all

{{ kpi_rollup('shipments', 'units_shipped', ['node', 'channel'], 'event_date',
    'sum(quantity)', aggregation='sum') }}

union all

{{ kpi_rollup('picked', 'units_picked', ['node'], 'event_date',
    'sum(qty_picked)', aggregation='sum') }}

union all

select * from open_exceptions
