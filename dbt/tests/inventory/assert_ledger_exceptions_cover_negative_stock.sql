-- Every negative end-of-day stock figure lies inside a spell listed in
-- fct_ledger_exceptions (the anomalies may warn, but never go unlisted).
with

negative_days as (
    select * from {{ ref('fct_stock_daily') }}
    where quantity < 0 and {{ audit_rows() }}
),

stock_exceptions as (
    select * from {{ ref('fct_ledger_exceptions') }}
    where exception_type in ('negative_on_hand', 'exit_before_receipt')
)

select
    negative_days.date,
    negative_days.sku,
    negative_days.node_id,
    negative_days.state
from negative_days
left join stock_exceptions
    on
        negative_days.sku = stock_exceptions.sku
        and negative_days.node_id = stock_exceptions.node_id
        and negative_days.state = stock_exceptions.state
        and negative_days.date >= cast(stock_exceptions.opened_at as date)
        and (
            stock_exceptions.resolved_at is null
            or negative_days.date < cast(stock_exceptions.resolved_at as date)
        )
where stock_exceptions.exception_id is null
