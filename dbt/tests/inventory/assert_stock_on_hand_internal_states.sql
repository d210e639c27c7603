-- On-hand, daily stock and blocked stock hold internal states of the domain
-- only (a state unknown to domain_states fails too); blocked stock only the
-- states domain_states flags as blocked.
with

states as (
    select * from {{ ref('domain_states') }}
)

select
    'fct_stock_on_hand' as model,
    on_hand.state
from {{ ref('fct_stock_on_hand') }} as on_hand
left join states on on_hand.state = states.state
where states.state is null or states.state_kind <> 'internal'

union all

select
    'fct_stock_daily' as model,
    daily.state
from {{ ref('fct_stock_daily') }} as daily
left join states on daily.state = states.state
where states.state is null or states.state_kind <> 'internal'

union all

select
    'fct_blocked_stock' as model,
    blocked.state
from {{ ref('fct_blocked_stock') }} as blocked
left join states on blocked.state = states.state
where states.state is null or not states.is_blocked
