{#- Blocked stock now: units physically present but not system-available
    (states flagged blocked in domain_states: quality_hold, damaged, returned,
    resale_ready) per SKU x node x state, valued at current weighted-average
    cost, with their age. Age is FIFO within the SKU x node x state: units
    leave a state oldest first, so the units still there are the latest
    entries into that state; age_days is the age of the oldest of them
    (days from its entry to the as-of date) and avg_age_days the
    unit-weighted mean. The as-of date is the last movement's date, so a
    rebuild gives the same ages. -#}
with

legs as (
    select * from {{ ref('int_stock_legs_unpivoted') }}
),

on_hand as (
    select * from {{ ref('fct_stock_on_hand') }}
),

states as (
    select * from {{ ref('domain_states') }}
),

as_of as (
    select cast(max(event_time) as date) as as_of_date
    from legs
),

blocked_on_hand as (
    select
        on_hand.sku,
        on_hand.node_id,
        on_hand.state,
        on_hand.quantity as on_hand_qty,
        on_hand.unit_cost,
        on_hand.value
    from on_hand
    inner join states on on_hand.state = states.state
    where states.is_blocked and on_hand.quantity > 0
),

entries as (
    select
        sku,
        node_id,
        state,
        movement_id as entry_id,
        event_time as entered_at,
        qty_delta as entry_qty
    from legs
    where qty_delta > 0
),

layers as (
    {{ fifo_remaining_layers('entries', 'blocked_on_hand', ['sku', 'node_id', 'state']) }}
),

layer_ages as (
    select
        layers.sku,
        layers.node_id,
        layers.state,
        layers.entered_at,
        layers.remaining_qty,
        {{ dbt.datediff('cast(layers.entered_at as date)', 'as_of.as_of_date', 'day') }} as age_days
    from layers
    cross join as_of
),

aged as (
    select
        sku,
        node_id,
        state,
        min(entered_at) as oldest_entered_at,
        max(age_days) as age_days,
        sum(remaining_qty * age_days) * 1.0 / sum(remaining_qty) as avg_age_days
    from layer_ages
    group by sku, node_id, state
)

select
    blocked_on_hand.sku,
    blocked_on_hand.node_id,
    blocked_on_hand.state,
    cast(blocked_on_hand.on_hand_qty as {{ dbt.type_bigint() }}) as quantity,
    blocked_on_hand.unit_cost,
    blocked_on_hand.value,
    aged.oldest_entered_at,
    cast(aged.age_days as {{ dbt.type_int() }}) as age_days,
    cast(round(aged.avg_age_days, 1) as decimal(9, 1)) as avg_age_days,
    as_of.as_of_date
from blocked_on_hand
left join aged
    on
        blocked_on_hand.sku = aged.sku
        and blocked_on_hand.node_id = aged.node_id
        and blocked_on_hand.state = aged.state
cross join as_of
