{#- One row per return line (public contract): the return lifecycle, money
    paid and recovered, and its cycle times. See _returns__models.yml. -#}
with

return_lines as (
    select * from {{ ref('int_return_lines_pivoted') }}
),

money as (
    select * from {{ ref('int_return_lines_money_attributed') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

products as (
    select * from {{ ref('stg_master__products') }}
),

movements as (
    select * from {{ ref('fct_stock_movements') }}
),

line_costs as (
    -- the stock ledger's cost of the line's units: the unit cost they
    -- re-entered at (return_received), else that of the restock itself
    select
        return_line_id,
        sum(case when event_type = 'return_received' then quantity * unit_cost end)
        / sum(case when event_type = 'return_received' then quantity end) as reentry_unit_cost,
        sum(case when disposition = 'restock' then quantity * unit_cost end)
        / sum(case when disposition = 'restock' then quantity end) as restock_unit_cost
    from movements
    where return_line_id is not null and unit_cost is not null
    group by return_line_id
),

joined as (
    select
        return_lines.*,
        money.refund_amount,
        money.refunded_at,
        money.liquidation_proceeds,
        money.vendor_credit_amount,
        money.reverse_logistics_cost,
        order_lines.channel,
        order_lines.ship_month,
        order_lines.net_unit_price,
        products.category,
        products.product_class,
        coalesce(line_costs.reentry_unit_cost, line_costs.restock_unit_cost) as ledger_unit_cost,
        case
            when return_lines.disposition = 'restock' then return_lines.qty_disposed else 0
        end as qty_restocked
    from return_lines
    inner join money on return_lines.return_line_id = money.return_line_id
    left join order_lines on return_lines.order_line_id = order_lines.order_line_id
    left join products on return_lines.sku = products.sku
    left join line_costs on return_lines.return_line_id = line_costs.return_line_id
),

restocked as (
    select
        *,
        case
            when qty_restocked = 0 then 0
            else round(qty_restocked * ledger_unit_cost, 2)
        end as restocked_cost_value
    from joined
)

select
    return_id,
    return_line_id,
    order_line_id,
    order_id,
    sku,
    channel,
    category,
    product_class,
    cast(quantity as {{ dbt.type_bigint() }}) as quantity,
    cast(coalesce(qty_received, 0) as {{ dbt.type_bigint() }}) as qty_received,
    cast(coalesce(qty_disposed, 0) as {{ dbt.type_bigint() }}) as qty_disposed,
    reason_code as reason,
    requested_at,
    authorized_at,
    rejected_at,
    rejection_reason,
    received_at,
    received_node_id,
    inspected_at,
    condition_grade,
    disposition,
    disposed_at,
    disposition_node_id,
    disposition_submission_id,
    cast(refund_amount as decimal(18, 2)) as refund_amount,
    refunded_at,
    cast(refund_issued_amount as decimal(18, 2)) as refund_issued_amount,
    refund_issued_at,
    -- unknown when restocked units have no known cost (never valued at 0)
    cast(
        restocked_cost_value + liquidation_proceeds + vendor_credit_amount as decimal(18, 2)
    ) as recovery_value,
    cast(restocked_cost_value as decimal(18, 2)) as restocked_cost_value,
    cast(liquidation_proceeds as decimal(18, 2)) as liquidation_proceeds,
    cast(vendor_credit_amount as decimal(18, 2)) as vendor_credit_amount,
    cast(reverse_logistics_cost as decimal(18, 2)) as reverse_logistics_cost,
    cast(round(quantity * net_unit_price, 2) as decimal(18, 2)) as return_value,
    is_customer_trusted,
    coalesce(
        coalesce(refund_issued_at, refunded_at) < received_at,
        coalesce(refund_issued_at, refunded_at) is not null
    ) as is_refund_before_receipt,
    exchange_order_id,
    exchanged_at,
    claim_id,
    ship_month,
    cast(
        cast({{ dbt.datediff('received_at', 'refunded_at', 'second') }} as double) / 86400
        as double
    ) as days_received_to_refunded,
    cast(
        cast({{ dbt.datediff('requested_at', 'refunded_at', 'second') }} as double) / 86400
        as double
    ) as days_requested_to_refunded,
    cast(
        case
            when disposition = 'restock'
                then cast(
                    {{ dbt.datediff('received_at', 'disposed_at', 'second') }} as double
                ) / 86400
        end as double
    ) as days_received_to_restocked,
    case
        when rejected_at is not null then 'rejected'
        when disposed_at is not null and (refunded_at is not null or exchanged_at is not null)
            then 'closed'
        when disposed_at is not null then 'disposed'
        when inspected_at is not null then 'inspected'
        when received_at is not null then 'received'
        when refunded_at is not null then 'refunded_awaiting_receipt'
        when authorized_at is not null then 'authorized'
        else 'requested'
    end as status
from restocked
