-- fct_stock_on_hand equals the last day of fct_stock_daily, units and value.
with

on_hand as (
    select * from {{ ref('fct_stock_on_hand') }}
),

daily as (
    select * from {{ ref('fct_stock_daily') }}
),

latest as (
    select max(date) as last_date from daily
),

last_day as (
    select daily.*
    from daily
    inner join latest on daily.date = latest.last_date
),

compared as (
    select
        coalesce(on_hand.sku, last_day.sku) as sku,
        coalesce(on_hand.node_id, last_day.node_id) as node_id,
        coalesce(on_hand.state, last_day.state) as state,
        on_hand.quantity as on_hand_qty,
        last_day.quantity as daily_qty,
        on_hand.value as on_hand_value,
        last_day.value as daily_value
    from on_hand
    full outer join last_day
        on
            on_hand.sku = last_day.sku
            and on_hand.node_id = last_day.node_id
            and on_hand.state = last_day.state
)

select *
from compared
where
    on_hand_qty is null
    or daily_qty is null
    or on_hand_qty <> daily_qty
    or on_hand_value <> daily_value
