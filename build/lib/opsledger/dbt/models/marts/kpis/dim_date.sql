{#- One row per day from the first stock movement to the data's as-of day:
    the calendar of the KPIs and dbt's semantic-layer time spine. -#}
with

movements as (
    select * from {{ ref('fct_stock_movements') }}
),

as_of as (
    select * from {{ ref('kpi_as_of') }}
),

bounds as (
    select
        cast(min(movements.event_time) as date) as first_date,
        max(as_of.as_of_date) as last_date
    from movements
    cross join as_of
),

calendar as (
    {{ calendar_days('bounds') }}
)

select
    date_day,
    cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start
from calendar
