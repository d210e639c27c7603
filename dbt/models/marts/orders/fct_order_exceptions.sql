{#- One row per order line x exception (backorder, partial, split,
    substitution, cancellation) with when it opened and closed; open ones age
    up to the latest event time of the data. -#}
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

as_of as (
    select * from {{ ref('int_events_as_of_summarised') }}
),

exceptions as (
    select
        order_line_id,
        'backorder' as exception_type,
        qty_ordered - qty_cancelled as qty_affected,
        ordered_at as opened_at,
        coalesce(
            first_allocated_at,
            case when qty_cancelled >= qty_ordered then last_cancelled_at end
        ) as closed_at
    from order_lines
    where is_backordered
    union all
    select
        order_line_id,
        'partial' as exception_type,
        qty_ordered - qty_cancelled - first_shipment_qty as qty_affected,
        first_shipped_at as opened_at,
        case
            when qty_open = 0 and last_cancelled_at > last_shipped_at then last_cancelled_at
            when qty_open = 0 then last_shipped_at
        end as closed_at
    from order_lines
    where is_partial
    union all
    select
        order_line_id,
        'split' as exception_type,
        qty_shipped as qty_affected,
        first_shipped_at as opened_at,
        case
            when qty_open = 0 and last_cancelled_at > last_shipped_at then last_cancelled_at
            when qty_open = 0 then last_shipped_at
        end as closed_at
    from order_lines
    where is_split
    union all
    select
        order_line_id,
        'substitution' as exception_type,
        qty_ordered as qty_affected,
        substituted_at as opened_at,
        coalesce(
            first_shipped_at,
            case when qty_cancelled >= qty_ordered then last_cancelled_at end
        ) as closed_at
    from order_lines
    where is_substituted
    union all
    select
        order_line_id,
        'cancellation' as exception_type,
        qty_cancelled as qty_affected,
        first_cancelled_at as opened_at,
        last_cancelled_at as closed_at
    from order_lines
    where qty_cancelled > 0
),

aged as (
    select
        exceptions.*,
        exceptions.closed_at is null as is_open,
        cast({{ dbt.datediff(
            'exceptions.opened_at',
            'coalesce(exceptions.closed_at, as_of.data_as_of)',
            'second') }} as double) / 86400 as age_days
    from exceptions
    cross join as_of
)

select
    {{ dbt.concat(["aged.order_line_id", "':'", "aged.exception_type"]) }} as exception_id,
    aged.order_line_id,
    order_lines.order_id,
    order_lines.channel,
    order_lines.sku,
    order_lines.fulfilment_node_id,
    aged.exception_type,
    cast(aged.qty_affected as {{ dbt.type_bigint() }}) as qty_affected,
    aged.opened_at,
    aged.closed_at,
    aged.is_open,
    cast(aged.age_days as double) as age_days,
    case
        when aged.age_days < 2 then '0-1d'
        when aged.age_days < 4 then '2-3d'
        when aged.age_days < 8 then '4-7d'
        when aged.age_days < 15 then '8-14d'
        else '15d+'
    end as age_bucket
from aged
inner join order_lines on aged.order_line_id = order_lines.order_line_id
