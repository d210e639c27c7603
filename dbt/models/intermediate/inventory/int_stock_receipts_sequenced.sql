{#- Receipts at a cost (supplier -> internal), numbered per SKU, with the
    SKU's internal on-hand (all nodes, all internal states) just before each
    receipt: the inputs of the weighted-average recurrence. The on-hand comes
    from int_stock_movements_unioned, which keeps it incrementally. -#}
with

movements as (
    select * from {{ ref('int_stock_movements_unioned') }}
)

select
    sku,
    row_number() over (partition by sku order by sku_seq) as receipt_seq,
    sku_seq,
    movement_id,
    event_time,
    quantity,
    receipt_unit_cost,
    internal_on_hand_before as on_hand_before,
    -- negative on-hand (events out of order at the source) carries no value
    case
        when internal_on_hand_before > 0 then internal_on_hand_before else 0
    end as carried_qty
from movements
where is_cost_receipt
