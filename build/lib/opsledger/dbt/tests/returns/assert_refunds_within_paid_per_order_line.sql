-- Refunds paid on an order line never exceed what the customer paid for the
-- units shipped on it (net revenue), allowing one cent of rounding per return line.
-- An operational anomaly, listed in fct_ledger_exceptions: warns, never blocks publication.
{{ config(severity='warn') }}

with

refunds as (
    select
        order_line_id,
        sum(refund_amount) as refunded,
        count(*) as return_lines
    from {{ ref('fct_return_lines') }}
    where refund_amount is not null
    group by order_line_id
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
)

select
    refunds.order_line_id,
    refunds.refunded,
    order_lines.net_revenue
from refunds
left join order_lines on refunds.order_line_id = order_lines.order_line_id
where refunds.refunded > coalesce(order_lines.net_revenue, 0) + 0.01 * refunds.return_lines
