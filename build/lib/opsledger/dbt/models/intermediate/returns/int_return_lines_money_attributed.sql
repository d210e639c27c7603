{#- Money that actually moved (finance ledger) per return line: refunds paid,
    liquidation proceeds, vendor credits (joined to the line through the
    claim_id of its vendor_claim_filed) and reverse logistics costs. Those
    costs are booked per return (return_id): they are split evenly over the
    return's lines, the remainder cent going to the first lines so the split
    sums exactly to the return's cost. -#}
with

return_lines as (
    select * from {{ ref('int_return_lines_pivoted') }}
),

ledger as (
    select * from {{ ref('stg_finance__ledger_events') }}
),

refunds as (
    select
        return_line_id,
        sum(amount) as refund_amount,
        max(event_time) as refunded_at,
        count(*) as refund_payments
    from ledger
    where event_type = 'refund_paid'
    group by return_line_id
),

liquidations as (
    select
        return_line_id,
        sum(amount) as liquidation_proceeds,
        max(event_time) as liquidated_at
    from ledger
    where event_type = 'liquidation_proceeds'
    group by return_line_id
),

vendor_credits as (
    select
        claim_id,
        sum(amount) as vendor_credit_amount,
        max(event_time) as vendor_credited_at
    from ledger
    where event_type = 'vendor_credit'
    group by claim_id
),

return_costs as (
    select
        return_id,
        round(sum(amount), 2) as cost_amount
    from ledger
    where event_type = 'reverse_logistics_cost'
    group by return_id
),

line_positions as (
    select
        return_line_id,
        return_id,
        row_number() over (partition by return_id order by return_line_id) as line_position,
        count(*) over (partition by return_id) as line_count
    from return_lines
),

cost_split as (
    select
        line_positions.return_line_id,
        floor(return_costs.cost_amount * 100 / line_positions.line_count) / 100
        + case
            when
                line_positions.line_position
                <= round(
                    return_costs.cost_amount * 100
                    - floor(return_costs.cost_amount * 100 / line_positions.line_count)
                    * line_positions.line_count
                )
                then 0.01
            else 0
        end as reverse_logistics_cost
    from line_positions
    inner join return_costs on line_positions.return_id = return_costs.return_id
)

select
    return_lines.return_line_id,
    refunds.refund_amount,
    refunds.refunded_at,
    coalesce(refunds.refund_payments, 0) as refund_payments,
    coalesce(liquidations.liquidation_proceeds, 0) as liquidation_proceeds,
    liquidations.liquidated_at,
    coalesce(vendor_credits.vendor_credit_amount, 0) as vendor_credit_amount,
    vendor_credits.vendor_credited_at,
    coalesce(cost_split.reverse_logistics_cost, 0) as reverse_logistics_cost
from return_lines
left join refunds on return_lines.return_line_id = refunds.return_line_id
left join liquidations on return_lines.return_line_id = liquidations.return_line_id
left join vendor_credits on return_lines.claim_id = vendor_credits.claim_id
left join cost_split on return_lines.return_line_id = cost_split.return_line_id
