{#- Cancellations per order line. An order_cancelled without order_line_id
    cancels every line of the order in full; with a line but no quantity it
    cancels the whole line; otherwise the quantity given. Requests add up and
    are capped at the quantity ordered. cancellation_refund_amount: the money
    refunded by the cancellations that name the line (each rounded to 2 dp, as
    the general ledger posts it); a whole-order cancellation's refund is the
    order's (fct_orders), not split over its lines. -#}
with

order_lines as (
    select * from {{ ref('stg_orders__order_lines') }}
),

cancellations as (
    select * from {{ ref('stg_orders__cancellations') }}
),

whole_order as (
    select
        order_lines.order_line_id,
        order_lines.qty_ordered as qty_requested,
        cancellations.cancellation_id,
        cancellations.cancelled_at,
        cancellations.reason_code,
        cast(null as decimal(18, 2)) as refund_amount,
        'order' as cancellation_scope
    from cancellations
    inner join order_lines on cancellations.order_id = order_lines.order_id
    where cancellations.order_line_id is null
),

line_level as (
    select
        order_lines.order_line_id,
        coalesce(cancellations.qty_cancelled, order_lines.qty_ordered) as qty_requested,
        cancellations.cancellation_id,
        cancellations.cancelled_at,
        cancellations.reason_code,
        cast(round(cancellations.refund_amount, 2) as decimal(18, 2)) as refund_amount,
        case when cancellations.qty_cancelled is null then 'line' else 'partial' end
            as cancellation_scope
    from cancellations
    inner join order_lines on cancellations.order_line_id = order_lines.order_line_id
),

line_cancellations as (
    select * from whole_order
    union all
    select * from line_level
),

ranked as (
    select
        *,
        row_number() over (
            partition by order_line_id order by cancelled_at, cancellation_id
        ) as cancellation_rank
    from line_cancellations
),

aggregated as (
    select
        order_line_id,
        sum(qty_requested) as qty_requested,
        count(*) as cancellation_count,
        sum(refund_amount) as refund_amount,
        min(cancelled_at) as first_cancelled_at,
        max(cancelled_at) as last_cancelled_at,
        max(case when cancellation_scope = 'order' then 1 else 0 end) = 1
            as is_order_cancelled
    from line_cancellations
    group by order_line_id
)

select
    aggregated.order_line_id,
    cast(least(aggregated.qty_requested, order_lines.qty_ordered) as {{ dbt.type_bigint() }})
        as qty_cancel_requested,
    aggregated.cancellation_count,
    aggregated.first_cancelled_at,
    aggregated.last_cancelled_at,
    aggregated.is_order_cancelled,
    cast(coalesce(aggregated.refund_amount, 0) as decimal(18, 2)) as cancellation_refund_amount,
    ranked.reason_code as cancellation_reason
from aggregated
inner join order_lines on aggregated.order_line_id = order_lines.order_line_id
inner join ranked
    on
        aggregated.order_line_id = ranked.order_line_id
        and ranked.cancellation_rank = 1
