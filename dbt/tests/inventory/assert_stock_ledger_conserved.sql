-- Conservation: per SKU the signed movements summed over all states,
-- external ones included, are zero (true by construction of a double-entry
-- ledger; this guards the unpivoting into legs and the incremental merge).
with

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
)

select
    sku,
    sum(qty) as net_qty
from legs
group by sku
having sum(qty) <> 0
