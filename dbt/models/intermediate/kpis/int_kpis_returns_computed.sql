{#- kpi_daily rows of the returns KPIs (models/kpis.yml): return_rate_units
    and return_rate_value (ship-month cohorts from fct_return_rate_cohorts,
    dated on the first day of the ship month), refund cycle times (median and
    p90 of refund paid - return received, median of refund paid - return
    requested, by refund date, over lines with both times; negative when the
    refund preceded receipt), return_to_stock_days (median, by restock date,
    node = disposition node) and units_inspected (by inspection date). -#}
with

cohorts as (
    select * from {{ ref('fct_return_rate_cohorts') }}
),

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

return_events as (
    select * from {{ ref('stg_returns__return_events') }}
),

refunded as (
    select
        cast(refunded_at as date) as refunded_date,
        channel,
        category,
        days_received_to_refunded,
        days_requested_to_refunded
    from return_lines
    where refunded_at is not null
),

received_refunded as (
    select * from refunded
    where days_received_to_refunded is not null
),

requested_refunded as (
    select * from refunded
    where days_requested_to_refunded is not null
),

restocked as (
    select
        cast(disposed_at as date) as restocked_date,
        disposition_node_id as node,
        category,
        days_received_to_restocked
    from return_lines
    where days_received_to_restocked is not null
),

inspected as (
    select
        cast(event_time as date) as event_date,
        node_id as node,
        quantity
    from return_events
    where event_type = 'return_inspected'
),

cohort_rows as (
    select
        ship_month,
        case
            when channel = 'all' and category = 'all' then 'all'
            when category = 'all' then 'channel'
            when channel = 'all' then 'category'
        end as dimension,
        case
            when channel = 'all' and category = 'all' then 'all'
            when category = 'all' then channel
            else category
        end as dimension_value,
        units_authorized,
        units_shipped,
        value_authorized,
        value_shipped
    from cohorts
    where channel = 'all' or category = 'all'
)

select
    cast(ship_month as date) as date,  -- noqa: RF04
    'return_rate_units' as kpi,
    'ratio' as aggregation,
    dimension,
    dimension_value,
    cast(units_authorized as double)
    / nullif(cast(units_shipped as double), 0) as value,  -- noqa: RF04
    cast(units_authorized as double) as numerator,
    cast(units_shipped as double) as denominator
from cohort_rows

union all

select
    cast(ship_month as date) as date,  -- noqa: RF04
    'return_rate_value' as kpi,
    'ratio' as aggregation,
    dimension,
    dimension_value,
    cast(value_authorized as double)
    / nullif(cast(value_shipped as double), 0) as value,  -- noqa: RF04
    cast(value_authorized as double) as numerator,
    cast(value_shipped as double) as denominator
from cohort_rows

union all

{{ kpi_rollup(
    'received_refunded', 'refund_cycle_time_days', ['channel', 'category'], 'refunded_date',
    none, 'count(*)',
    value=percentile_cont_agg('days_received_to_refunded', 0.5), aggregation='statistic'
) }}

union all

{{ kpi_rollup(
    'received_refunded', 'refund_cycle_time_p90_days', ['channel', 'category'], 'refunded_date',
    none, 'count(*)',
    value=percentile_cont_agg('days_received_to_refunded', 0.9), aggregation='statistic'
) }}

union all

{{ kpi_rollup(
    'requested_refunded', 'refund_request_to_paid_days', ['channel', 'category'], 'refunded_date',
    none, 'count(*)',
    value=percentile_cont_agg('days_requested_to_refunded', 0.5), aggregation='statistic'
) }}

union all

{{ kpi_rollup(
    'restocked', 'return_to_stock_days', ['node', 'category'], 'restocked_date',
    none, 'count(*)',
    value=percentile_cont_agg('days_received_to_restocked', 0.5), aggregation='statistic'
) }}

union all

{{ kpi_rollup('inspected', 'units_inspected', ['node'], 'event_date',
    'sum(quantity)', aggregation='sum') }}
