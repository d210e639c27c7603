-- Units received and dispositioned never exceed the units requested, and
-- units requested never exceed the units shipped on the original line.
-- An operational anomaly, listed in fct_ledger_exceptions: warns, never blocks publication.
{{ config(severity='warn') }}

with

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

per_order_line as (
    select
        order_line_id,
        sum(quantity) as qty_requested
    from return_lines
    where authorized_at is not null
    group by order_line_id
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
)

select
    return_line_id as failing_id,
    'received or disposed above requested' as problem
from return_lines
where qty_received > quantity or qty_disposed > qty_received
union all
select
    per_order_line.order_line_id as failing_id,
    'authorized above shipped' as problem
from per_order_line
inner join order_lines on per_order_line.order_line_id = order_lines.order_line_id
where per_order_line.qty_requested > order_lines.qty_shipped
