{#- The entries at a cost that move a SKU's weighted-average cost, numbered
    per SKU in sku_seq order, with the SKU's internal on-hand (all nodes, all
    internal states) just before each: the inputs of the recurrence.
    - receipts at a cost (supplier -> internal), at their unit_cost;
    - traced customer returns (return_received): the return line's order line
      (int_return_lines_pivoted) shipped this SKU before the return; they
      re-enter at the unit COGS of those shipments, which
      int_sku_costs_averaged computes (it depends on the averages before).
    Untraced returns re-enter at the average in effect and move nothing, so
    they are not entries. The on-hand comes from int_stock_movements_unioned,
    which keeps it incrementally. -#}
with

movements as (
    select * from {{ ref('int_stock_movements_unioned') }}
),

return_lines as (
    select * from {{ ref('int_return_lines_pivoted') }}
),

shipments as (
    select
        sku,
        order_line_id,
        min(sku_seq) as first_shipment_seq
    from movements
    where event_type = 'shipped' and to_state = 'customer' and order_line_id is not null
    group by sku, order_line_id
),

returns as (
    select
        movements.movement_id,
        movements.sku,
        coalesce(movements.order_line_id, return_lines.order_line_id) as order_line_id
    from movements
    left join return_lines on movements.return_line_id = return_lines.return_line_id
    where
        movements.event_type = 'return_received'
        and movements.from_state = 'customer'
        and movements.is_to_internal
),

traced_returns as (
    select
        returns.movement_id,
        returns.order_line_id
    from returns
    inner join movements on returns.movement_id = movements.movement_id
    inner join shipments
        on
            returns.sku = shipments.sku
            and returns.order_line_id = shipments.order_line_id
            and movements.sku_seq > shipments.first_shipment_seq
),

entries as (
    select
        movements.*,
        case when movements.is_cost_receipt then 'receipt' else 'return' end as entry_kind,
        traced_returns.order_line_id as return_order_line_id
    from movements
    left join traced_returns on movements.movement_id = traced_returns.movement_id
    where movements.is_cost_receipt or traced_returns.movement_id is not null
)

select
    sku,
    row_number() over (partition by sku order by sku_seq) as receipt_seq,
    sku_seq,
    movement_id,
    event_time,
    entry_kind,
    quantity,
    receipt_unit_cost,
    return_order_line_id,
    internal_on_hand_before as on_hand_before,
    -- negative on-hand (events out of order at the source) carries no value
    case
        when internal_on_hand_before > 0 then internal_on_hand_before else 0
    end as carried_qty,
    ingested_at
from entries
