-- On-hand, daily stock and blocked stock hold internal states only; blocked
-- stock only the states domain_states flags as blocked.
with

states as (
    select * from {{ ref('domain_states') }}
)

select
    'fct_stock_on_hand' as model,
    on_hand.state
from {{ ref('fct_stock_on_hand') }} as on_hand
inner join states on on_hand.state = states.state
where states.state_kind <> 'internal'

union all

select
    'fct_stock_daily' as model,
    daily.state
from {{ ref('fct_stock_daily') }} as daily
inner join states on daily.state = states.state
where states.state_kind <> 'internal'

union all

select
    'fct_blocked_stock' as model,
    blocked.state
from {{ ref('fct_blocked_stock') }} as blocked
inner join states on blocked.state = states.state
where not states.is_blocked
