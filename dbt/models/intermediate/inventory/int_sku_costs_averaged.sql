{#- Perpetual weighted-average cost per SKU, one row per receipt at a cost.

    W_i = (max(Q_before_i, 0) * W_(i-1) + q_i * c_i) / (max(Q_before_i, 0) + q_i)

    Only receipts move the average: returned and found units re-enter at the
    average in effect, so they change the quantity but not W. W_0 is the
    master unit_cost (used when stock exists before the first receipt).
    The recurrence is not associative, so it is computed exactly with a
    recursive CTE over receipt_seq: one iteration per receipt of the busiest
    SKU, all SKUs in parallel. Each step is rounded to 6 decimals, so the
    result is deterministic on every engine. -#}
with recursive

receipts as (
    select * from {{ ref('int_stock_receipts_sequenced') }}
),

products as (
    select * from {{ ref('stg_master__products') }}
),

averaged as (
    select
        receipts.sku,
        receipts.receipt_seq,
        cast(round(
            (
                receipts.carried_qty * coalesce(products.unit_cost, receipts.receipt_unit_cost)
                + receipts.quantity * receipts.receipt_unit_cost
            ) / (receipts.carried_qty + receipts.quantity),
            6
        ) as decimal(18, 6)) as wac_after
    from receipts
    left join products on receipts.sku = products.sku
    where receipts.receipt_seq = 1

    union all

    select
        receipts.sku,
        receipts.receipt_seq,
        cast(round(
            (
                receipts.carried_qty * averaged.wac_after
                + receipts.quantity * receipts.receipt_unit_cost
            ) / (receipts.carried_qty + receipts.quantity),
            6
        ) as decimal(18, 6)) as wac_after
    from averaged
    inner join receipts
        on
            averaged.sku = receipts.sku
            and averaged.receipt_seq + 1 = receipts.receipt_seq
)

select
    receipts.sku,
    receipts.receipt_seq,
    receipts.movement_id as receipt_movement_id,
    receipts.sku_seq as valid_from_seq,
    lead(receipts.sku_seq) over (
        partition by receipts.sku order by receipts.receipt_seq
    ) as valid_to_seq,
    receipts.event_time as valid_from,
    lead(receipts.event_time) over (
        partition by receipts.sku order by receipts.receipt_seq
    ) as valid_to,
    receipts.quantity as receipt_quantity,
    receipts.receipt_unit_cost,
    receipts.carried_qty,
    coalesce(
        lag(averaged.wac_after) over (
            partition by receipts.sku order by receipts.receipt_seq
        ),
        products.unit_cost
    ) as wac_before,
    averaged.wac_after
from receipts
inner join averaged
    on
        receipts.sku = averaged.sku
        and receipts.receipt_seq = averaged.receipt_seq
left join products on receipts.sku = products.sku
