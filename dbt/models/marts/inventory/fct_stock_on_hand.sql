{#- Stock now: the sum of the internal legs of every movement per SKU x node x
    internal state, valued at the SKU's current weighted-average cost (null,
    unknown, when dim_sku.cost_basis is unknown). Zero rows are left out. -#}
with

legs as (
    select * from {{ ref('int_stock_legs_unpivoted') }}
),

skus as (
    select * from {{ ref('dim_sku') }}
),

on_hand as (
    select
        sku,
        node_id,
        state,
        sum(qty_delta) as quantity,
        max(event_time) as last_movement_at
    from legs
    group by sku, node_id, state
)

select
    on_hand.sku,
    on_hand.node_id,
    on_hand.state,
    cast(on_hand.quantity as {{ dbt.type_bigint() }}) as quantity,
    cast(
        case when skus.cost_basis = 'unknown' then null else skus.unit_cost end
        as decimal(18, 6)
    ) as unit_cost,
    cast(
        case
            when skus.cost_basis = 'unknown' then null
            else round(on_hand.quantity * skus.unit_cost, 2)
        end as decimal(18, 2)
    ) as value,  -- noqa: RF04
    on_hand.last_movement_at
from on_hand
left join skus on on_hand.sku = skus.sku
where on_hand.quantity <> 0
