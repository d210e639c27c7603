{#- Receipts at a cost (supplier -> internal), numbered per SKU, with the
    SKU's internal on-hand (all nodes, all internal states) just before each
    receipt: the inputs of the weighted-average recurrence. -#}
with

movements as (
    select * from {{ ref('int_stock_movements_unioned') }}
),

with_on_hand as (
    select
        *,
        coalesce(sum(internal_qty_delta) over (
            partition by sku
            order by sku_seq
            rows between unbounded preceding and 1 preceding
        ), 0) as on_hand_before
    from movements
)

select
    sku,
    row_number() over (partition by sku order by sku_seq) as receipt_seq,
    sku_seq,
    movement_id,
    event_time,
    quantity,
    receipt_unit_cost,
    on_hand_before,
    -- negative on-hand (events out of order at the source) carries no value
    case when on_hand_before > 0 then on_hand_before else 0 end as carried_qty
from with_on_hand
where is_cost_receipt
