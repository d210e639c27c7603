{#- Return liabilities as of the data's latest event time: one row per return
    line that is requested or authorized (not rejected), not exchanged and not
    (fully) refunded yet. The liability is the refund owed: the refund issued
    by the portal when there is one, else the line's return value (units x net
    unit price paid), less refunds already paid. liability_stage:
    issued_not_paid (portal issued, finance has not paid), authorized (RMA
    granted, no refund yet) or requested (awaiting authorization: contingent). -#}
with

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

as_of as (
    select max(event_time) as data_as_of from {{ ref('stg_returns__return_events') }}
),

owed as (
    select
        return_lines.*,
        coalesce(return_lines.refund_issued_amount, return_lines.return_value) as refund_owed,
        coalesce(return_lines.refund_amount, 0) as refund_paid
    from return_lines
    where
        return_lines.rejected_at is null
        and return_lines.exchange_order_id is null
)

select
    owed.return_line_id,
    owed.return_id,
    owed.order_line_id,
    owed.sku,
    owed.category,
    owed.channel,
    case
        when owed.refund_issued_amount is not null then 'issued_not_paid'
        when owed.authorized_at is not null then 'authorized'
        else 'requested'
    end as liability_stage,
    owed.requested_at,
    owed.authorized_at,
    owed.received_at,
    owed.refund_issued_at,
    cast(owed.refund_owed as decimal(18, 2)) as refund_owed,
    cast(owed.refund_paid as decimal(18, 2)) as refund_paid,
    cast(owed.refund_owed - owed.refund_paid as decimal(18, 2)) as liability_amount,
    as_of.data_as_of,
    cast(
        {{ dbt.datediff('owed.requested_at', 'as_of.data_as_of', 'day') }} as integer
    ) as age_days
from owed
cross join as_of
where owed.refund_owed - owed.refund_paid > 0
