-- fct_order_fill_daily's units add up to the order lines fact (its grain,
-- promised date x channel, is its primary_key test).
with

totals as (
    select
        (select sum(units_ordered) from {{ ref('fct_order_fill_daily') }}) as daily_units,
        (select sum(qty_ordered) from {{ ref('fct_order_lines') }}) as line_units
)

select
    daily_units,
    line_units
from totals
where coalesce(daily_units, 0) != coalesce(line_units, 0)
