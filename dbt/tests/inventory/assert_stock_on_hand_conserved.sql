-- Conservation against the balances: per SKU, the units on hand (internal
-- states, fct_stock_on_hand) plus the balances of the external states
-- (supplier, customer, adjustment, ...: their signed legs in
-- fct_stock_movements) are zero. Complements assert_stock_ledger_conserved,
-- which checks the movement legs alone: this one guards the on-hand rollup.
with

states as (
    select * from {{ ref('domain_states') }}
),

movements as (
    select * from {{ ref('fct_stock_movements') }}
    -- a per-build audit: the SKUs this build wrote movements of, whole
    where {{ audit_keys('sku', ref('fct_stock_movements')) }}
),

legs as (
    select
        sku,
        from_state as state,
        -quantity as qty
    from movements
    union all
    select
        sku,
        to_state as state,
        quantity as qty
    from movements
),

external_balances as (
    select
        legs.sku,
        sum(legs.qty) as external_balance
    from legs
    inner join states on legs.state = states.state
    where states.state_kind = 'external'
    group by legs.sku
),

on_hand as (
    select
        sku,
        sum(quantity) as on_hand
    from {{ ref('fct_stock_on_hand') }}
    where {{ audit_keys('sku', ref('fct_stock_movements')) }}
    group by sku
)

select
    coalesce(on_hand.sku, external_balances.sku) as sku,
    coalesce(on_hand.on_hand, 0) as on_hand,
    coalesce(external_balances.external_balance, 0) as external_balance
from on_hand
full outer join external_balances on on_hand.sku = external_balances.sku
where coalesce(on_hand.on_hand, 0) + coalesce(external_balances.external_balance, 0) <> 0
