-- fct_order_lines.qty_return_authorized equals the authorized units of the line's
-- return lines in fct_return_lines (returns of unknown order lines have no line).
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

authorized as (
    select
        order_line_id,
        sum(quantity) as qty_authorized
    from return_lines
    where authorized_at is not null
    group by order_line_id
)

select
    order_lines.order_line_id,
    order_lines.qty_return_authorized,
    authorized.qty_authorized
from order_lines
left join authorized on order_lines.order_line_id = authorized.order_line_id
where order_lines.qty_return_authorized != coalesce(authorized.qty_authorized, 0)
