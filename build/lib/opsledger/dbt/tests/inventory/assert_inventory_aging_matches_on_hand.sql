-- Aging covers every on-hand unit: per SKU x node the aging quantities equal
-- the on-hand quantity over all internal states (available, reserved,
-- in_transit and the blocked states). A SKU with a negative state somewhere is
-- an anomaly (fct_ledger_exceptions) that its FIFO layers cannot hold (the exit
-- consumes layers before the units exist), so its pairs are left out.
with

aging as (
    select
        sku,
        node_id,
        sum(quantity) as aging_qty
    from {{ ref('fct_inventory_aging') }}
    group by sku, node_id
),

on_hand as (
    select
        sku,
        node_id,
        sum(quantity) as on_hand_qty
    from {{ ref('fct_stock_on_hand') }}
    group by sku, node_id
    having sum(quantity) <> 0 and min(quantity) >= 0
),

negative_skus as (
    select distinct sku
    from {{ ref('fct_stock_on_hand') }}
    where quantity < 0
)

select
    coalesce(aging.sku, on_hand.sku) as sku,
    coalesce(aging.node_id, on_hand.node_id) as node_id,
    aging.aging_qty,
    on_hand.on_hand_qty
from aging
full outer join on_hand
    on
        aging.sku = on_hand.sku
        and aging.node_id = on_hand.node_id
left join negative_skus on coalesce(aging.sku, on_hand.sku) = negative_skus.sku
where
    negative_skus.sku is null
    and (
        aging.aging_qty is null
        or on_hand.on_hand_qty is null
        or aging.aging_qty <> on_hand.on_hand_qty
    )
