-- fct_order_fill_daily has one row per promised date x channel, and its units
-- add up to the order lines fact.
with

daily as (
    select * from {{ ref('fct_order_fill_daily') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

duplicates as (
    select
        promised_date,
        channel
    from daily
    group by promised_date, channel
    having count(*) > 1
),

totals as (
    select
        (select sum(units_ordered) from daily) as daily_units,
        (select sum(qty_ordered) from order_lines) as line_units
)

select
    promised_date,
    channel,
    'duplicate' as problem
from duplicates
union all
select
    null as promised_date,
    null as channel,
    'units do not add up' as problem
from totals
where coalesce(daily_units, 0) != coalesce(line_units, 0)
