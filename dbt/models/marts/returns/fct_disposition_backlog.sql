{#- Disposition backlog as of the latest event time of the data, by node x
    category x stage x age bucket:
    - awaiting_disposition: units received (state `returned`) without a
      disposition yet, aged from receipt;
    - refurbish_hold: units dispositioned to refurbish (state `quality_hold`)
      not yet released. Stock releases carry no return id, so they are
      attributed FIFO per SKU x node: the net quality_hold -> available
      status changes (releases minus quality blocks) clear the oldest
      refurbished units first; the rest is aged from the disposition. -#}
with

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

movements as (
    select * from {{ ref('stg_stock__movements') }}
    where event_type = 'status_change'
),

as_of as (
    select * from {{ ref('int_events_as_of_summarised') }}
),

awaiting as (
    select
        received_node_id as node_id,
        category,
        'awaiting_disposition' as backlog_stage,
        received_at as entered_at,
        qty_received as units
    from return_lines
    where received_at is not null and disposed_at is null and qty_received > 0
),

refurbished as (
    select
        return_line_id,
        disposition_node_id as node_id,
        sku,
        category,
        disposed_at,
        qty_disposed
    from return_lines
    where disposition = 'refurbish' and qty_disposed > 0
),

net_releases as (
    select
        from_node_id as node_id,
        sku,
        sum(
            case
                when from_state = 'quality_hold' and to_state = 'available' then quantity
                when from_state = 'available' and to_state = 'quality_hold' then -quantity
                else 0
            end
        ) as units_released
    from movements
    group by from_node_id, sku
),

refurbished_cumulated as (
    select
        *,
        sum(qty_disposed) over (
            partition by node_id, sku
            order by disposed_at, return_line_id
            rows between unbounded preceding and current row
        ) as cumulative_units
    from refurbished
),

refurbish_hold as (
    select
        refurbished_cumulated.node_id,
        refurbished_cumulated.category,
        'refurbish_hold' as backlog_stage,
        refurbished_cumulated.disposed_at as entered_at,
        least(
            refurbished_cumulated.qty_disposed,
            refurbished_cumulated.cumulative_units
            - greatest(coalesce(net_releases.units_released, 0), 0)
        ) as units
    from refurbished_cumulated
    left join net_releases
        on
            refurbished_cumulated.node_id = net_releases.node_id
            and refurbished_cumulated.sku = net_releases.sku
),

backlog as (
    select * from awaiting
    union all
    select * from refurbish_hold
    where units > 0
),

aged as (
    select
        backlog.*,
        cast(
            {{ dbt.datediff('backlog.entered_at', 'as_of.data_as_of', 'second') }} as double
        ) / 86400
            as age_days,
        as_of.data_as_of
    from backlog
    cross join as_of
),

bucketed as (
    select
        data_as_of,
        node_id,
        coalesce(category, 'unknown') as category,
        backlog_stage,
        case
            when age_days < 3 then '0-2d'
            when age_days < 8 then '3-7d'
            when age_days < 15 then '8-14d'
            when age_days < 31 then '15-30d'
            else '31d+'
        end as age_bucket,
        units,
        age_days
    from aged
)

select
    data_as_of,
    node_id,
    category,
    backlog_stage,
    age_bucket,
    cast(count(*) as {{ dbt.type_bigint() }}) as return_lines,
    cast(sum(units) as {{ dbt.type_bigint() }}) as units,
    cast(max(age_days) as double) as max_age_days
from bucketed
group by data_as_of, node_id, category, backlog_stage, age_bucket
