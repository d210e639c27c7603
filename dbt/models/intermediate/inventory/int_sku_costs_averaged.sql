{#- Perpetual weighted-average cost per SKU, one row per entry at a cost
    (int_stock_receipts_sequenced: receipts, traced customer returns).

    W_k = (max(Q_before_k, 0) * W_(k-1) + q_k * c_k) / (max(Q_before_k, 0) + q_k)

    c_k is a receipt's unit_cost, or for a traced return the unit COGS of the
    shipments it came back from: the quantity-weighted unit_cost of the
    return line's order line's shipments of the SKU before the return (one
    shipment: exactly its unit_cost), so a return credits COGS what the
    shipment debited and never creates margin. Untraced returns and found
    units re-enter at the average in effect: they change the quantity, not W.
    W_0 is the master unit_cost (stock before the first receipt); unknown
    (null) when the master's cost_basis is unknown, so the first entry at a
    cost values the units carried into it at that cost (not at a placeholder
    0): W_1 = c_1; shipments before it have an unknown cost too, so a traced
    return of them before any receipt leaves W unknown.

    A shipment's cost is W in effect at it, so a return's c_k depends on an
    earlier step of the recurrence. The recurrence is not associative either,
    so it is computed exactly with a recursive CTE over the entries, one
    iteration per entry of the busiest SKU, all SKUs in parallel. Each
    iteration carries one row per SKU with the average ('w') and one row per
    shipment still awaiting a later traced return of its line ('p', with the
    unit cost it left at), until that line's last return. Each step is
    rounded to 6 decimals, so the result is deterministic on every engine.
    The recurrence is dispatched (dbt/macros/weighted_average_cost_steps.sql):
    Spark admits no window over a recursive reference and folds each SKU's
    entries instead. -#}
with recursive

entries as (
    select * from {{ ref('int_stock_receipts_sequenced') }}
),

movements as (
    select * from {{ ref('int_stock_movements_unioned') }}
),

products as (
    select * from {{ ref('stg_master__products') }}
),

returned_lines as (
    select
        sku,
        return_order_line_id as order_line_id,
        max(receipt_seq) as keep_until
    from entries
    where entry_kind = 'return'
    group by sku, return_order_line_id
),

line_shipments as (
    -- the shipments of lines with a traced return, each with the entry whose
    -- average it leaves at (after_step; 0: before the first entry)
    select
        shipped.movement_id,
        shipped.sku,
        shipped.order_line_id,
        shipped.quantity,
        returned_lines.keep_until,
        coalesce(max(entries.receipt_seq), 0) as after_step
    from movements as shipped
    inner join returned_lines
        on
            shipped.sku = returned_lines.sku
            and shipped.order_line_id = returned_lines.order_line_id
    left join entries
        on
            shipped.sku = entries.sku
            and shipped.sku_seq > entries.sku_seq
    where shipped.event_type = 'shipped' and shipped.to_state = 'customer'
    group by
        shipped.movement_id,
        shipped.sku,
        shipped.order_line_id,
        shipped.quantity,
        returned_lines.keep_until
),

{{ weighted_average_cost_steps() }}

select
    entries.sku,
    entries.receipt_seq,
    entries.movement_id as entry_movement_id,
    entries.entry_kind,
    entries.sku_seq as valid_from_seq,
    lead(entries.sku_seq) over (
        partition by entries.sku order by entries.receipt_seq
    ) as valid_to_seq,
    entries.event_time as valid_from,
    lead(entries.event_time) over (
        partition by entries.sku order by entries.receipt_seq
    ) as valid_to,
    entries.quantity as receipt_quantity,
    entries.receipt_unit_cost,
    entries.return_order_line_id,
    averages.entry_unit_cost,
    entries.carried_qty,
    before_entry.wac_after as wac_before,
    averages.wac_after
from entries
inner join averages
    on
        entries.sku = averages.sku
        and entries.receipt_seq = averages.step
inner join averages as before_entry
    on
        entries.sku = before_entry.sku
        and entries.receipt_seq = before_entry.step + 1
