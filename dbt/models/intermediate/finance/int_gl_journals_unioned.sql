-- depends_on: {{ ref('stg_master__products') }}, {{ ref('stg_orders__order_lines') }}
-- depends_on: {{ ref('stg_returns__return_events') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='recompute',
        recompute_column='posted_at',
        recompute_from='gl_recompute_from',
        on_schema_change='fail',
    )
}}
{#- Every two-line journal of the general ledger, one row each: a debit
    account, a credit account and one amount (> 0), so each of these journals
    balances by construction. fct_gl_entries unpivots them into journal lines
    and adds the multi-line inventory revaluation journals.

    Posting rules (docs/posting-rules.md; accounts: dim_gl_account):
    - stock movements between an internal and an external state post to
      inventory at the movement's value (fct_stock_movements.value): into
      stock Dr inventory / Cr the external state's account, out of stock
      Dr that account / Cr inventory. supplier -> goods_received_not_invoiced,
      customer -> cogs (shipments are the COGS, returns received re-enter at
      the unit COGS of their shipments and credit cogs), scrap -> write_off_scrap, donation ->
      write_off_donation, liquidation -> liquidation_cost, vendor_return ->
      vendor_return_cost, adjustment -> write_off_damage for the damage
      reasons (damage, write_off_damaged, expired), else inventory_adjustments
      (shrink, count differences, found stock, corrections).
    - internal -> internal movements post nothing, except moves between nodes
      (transfers), which post Dr inventory (to node) / Cr inventory (from node):
      net zero, but node balances stay right.
    - sales at shipment: Dr accounts_receivable / Cr revenue, the net revenue
      of the units shipped; a line's shipments split its net revenue
      (fct_order_lines.net_revenue) cumulatively, so they add up to it exactly.
    - payments captured: Dr cash / Cr accounts_receivable.
    - cancellation refunds (an order_cancelled with an amount: money refunded
      for units never shipped, hence never invoiced): Dr accounts_receivable /
      Cr cash, the reverse of the payment captured for them; no revenue was
      posted for those units, so nothing goes to sales_returns (gross margin
      and margin leakage are untouched).
    - finance ledger: refund_paid Dr sales_returns / Cr cash; liquidation_proceeds
      Dr cash / Cr liquidation_recovery; vendor_credit Dr cash / Cr
      vendor_recovery; reverse_logistics_cost Dr reverse_logistics_expense /
      Cr accounts_payable; supplier_invoice Dr goods_received_not_invoiced /
      Cr accounts_payable.
    Amounts are rounded to 2 dp; zero amounts post nothing. Amounts are in the
    event's currency (no FX conversion). ingested_at: when the journal's
    source event was loaded.

    Incremental (strategy recompute): every journal posted on or after the
    first day gl_recompute_from names is deleted and recomputed; a line's
    earlier shipments still count towards its cumulative revenue split. -#}
with

movements as (
    select * from {{ ref('fct_stock_movements') }}
),

states as (
    select * from {{ ref('domain_states') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

ledger as (
    select * from {{ ref('stg_finance__ledger_events') }}
),

payments as (
    select * from {{ ref('stg_orders__payments') }}
),

cancellations as (
    select * from {{ ref('stg_orders__cancellations') }}
),

{% if is_incremental() %}
    {%- set from_time = recompute_bound(gl_recompute_from(incremental_watermark('ingested_at'))) %}
{% endif %}

classified as (
    select
        movements.*,
        from_states.state_kind = 'internal' as is_from_internal,
        to_states.state_kind = 'internal' as is_to_internal
    from movements
    inner join states as from_states on movements.from_state = from_states.state
    inner join states as to_states on movements.to_state = to_states.state
    {%- if is_incremental() %}
        where
            movements.event_time >= {{ from_time }}
            or movements.order_line_id in (
                select shipped.order_line_id
                from movements as shipped
                where
                    shipped.event_type = 'shipped'
                    and shipped.event_time >= {{ from_time }}
            )
    {%- endif %}
),

external_legs as (
    select
        *,
        case when is_to_internal then from_state else to_state end as external_state,
        case when is_to_internal then to_node else from_node end as internal_node
    from classified
    where is_from_internal <> is_to_internal
),

stock_journals as (
    select
        external_legs.*,
        case external_legs.external_state
            when 'supplier' then 'goods_received_not_invoiced'
            when 'customer' then 'cogs'
            when 'scrap' then 'write_off_scrap'
            when 'donation' then 'write_off_donation'
            when 'liquidation' then 'liquidation_cost'
            when 'vendor_return' then 'vendor_return_cost'
            when 'adjustment' then
                case
                    when external_legs.reason_code in ('damage', 'write_off_damaged', 'expired')
                        then 'write_off_damage'
                    else 'inventory_adjustments'
                end
        end as contra_account,
        case
            when external_legs.event_type = 'po_receipt' then 'inventory_receipt'
            when external_legs.event_type = 'shipped' then 'cogs'
            when external_legs.event_type = 'return_received' then 'customer_return'
            when external_legs.event_type = 'disposition_decided' then 'disposition_write_off'
            when
                external_legs.external_state = 'adjustment' and external_legs.is_to_internal
                then 'stock_adjustment_in'
            when external_legs.external_state = 'adjustment' then 'stock_adjustment_out'
            else 'stock_write_off'
        end as journal_type
    from external_legs
    where external_legs.value <> 0
),

shipments as (
    select
        classified.movement_id,
        classified.event_id,
        classified.event_type,
        classified.event_time,
        classified.sku,
        classified.from_node,
        classified.order_line_id,
        order_lines.channel,
        order_lines.unit_price,
        order_lines.discount,
        order_lines.qty_ordered,
        classified.ingested_at,
        sum(classified.quantity) over (
            partition by classified.order_line_id
            order by classified.event_time, classified.movement_id
            rows between unbounded preceding and current row
        ) as cum_qty
    from classified
    inner join order_lines on classified.order_line_id = order_lines.order_line_id
    where classified.event_type = 'shipped' and classified.to_state = 'customer'
),

shipment_revenue as (
    select
        *,
        round(unit_price * cum_qty - discount * cum_qty / qty_ordered, 2)
        - coalesce(
            lag(round(unit_price * cum_qty - discount * cum_qty / qty_ordered, 2)) over (
                partition by order_line_id order by event_time, movement_id
            ),
            0
        ) as revenue
    from shipments
),

claim_returns as (
    select
        claim_id,
        min(return_line_id) as return_line_id,
        min(sku) as sku,
        min(channel) as channel
    from return_lines
    where claim_id is not null
    group by claim_id
),

ledger_enriched as (
    select
        ledger.*,
        coalesce(ledger.sku, line_returns.sku, claim_returns.sku) as line_sku,
        coalesce(line_returns.channel, claim_returns.channel) as channel,
        coalesce(line_returns.order_line_id, ledger.order_line_id) as line_order_line_id,
        coalesce(ledger.return_line_id, claim_returns.return_line_id) as line_return_line_id
    from ledger
    left join return_lines as line_returns
        on ledger.return_line_id = line_returns.return_line_id
    left join claim_returns
        on ledger.claim_id = claim_returns.claim_id
),

{# reverse logistics costs are booked per return: one journal per return
    line, the cost split evenly with the remainder cents on the first lines,
    so costs carry the line's SKU (category) and channel #}
cost_splits as (
    select
        event_id,
        event_type,
        event_time,
        return_line_id,
        sku,
        channel,
        order_line_id,
        ingested_at,
        floor(total_amount * 100 / line_count) / 100
        + case
            when
                line_position
                <= round(total_amount * 100 - floor(total_amount * 100 / line_count) * line_count)
                then 0.01
            else 0
        end as amount
    from (
        select
            ledger.event_id,
            ledger.event_type,
            ledger.event_time,
            return_lines.return_line_id,
            return_lines.sku,
            return_lines.channel,
            return_lines.order_line_id,
            ledger.ingested_at,
            round(ledger.amount, 2) as total_amount,
            row_number() over (
                partition by ledger.event_id order by return_lines.return_line_id
            ) as line_position,
            count(*) over (partition by ledger.event_id) as line_count
        from ledger
        inner join return_lines on ledger.return_id = return_lines.return_id
        where ledger.event_type = 'reverse_logistics_cost'
    ) as positioned
),

unioned as (
    select
        {{ dbt.concat(["'stk:'", 'movement_id']) }} as journal_id,
        journal_type,
        event_time as posted_at,
        event_id as source_event_id,
        event_type,
        case when is_to_internal then 'inventory' else contra_account end as debit_account,
        case when is_to_internal then contra_account else 'inventory' end as credit_account,
        value as amount,
        sku,
        internal_node as node_id,
        internal_node as debit_node_id,
        internal_node as credit_node_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        order_line_id,
        return_line_id,
        ingested_at
    from stock_journals

    union all

    select
        {{ dbt.concat(["'trf:'", 'movement_id']) }} as journal_id,
        'node_transfer' as journal_type,
        event_time as posted_at,
        event_id as source_event_id,
        event_type,
        'inventory' as debit_account,
        'inventory' as credit_account,
        value as amount,
        sku,
        to_node as node_id,
        to_node as debit_node_id,
        from_node as credit_node_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        order_line_id,
        return_line_id,
        ingested_at
    from classified
    where is_from_internal and is_to_internal and from_node <> to_node and value <> 0

    union all

    select
        {{ dbt.concat(["'sale:'", 'movement_id']) }} as journal_id,
        'sale' as journal_type,
        event_time as posted_at,
        event_id as source_event_id,
        event_type,
        'accounts_receivable' as debit_account,
        'revenue' as credit_account,
        revenue as amount,
        sku,
        from_node as node_id,
        from_node as debit_node_id,
        from_node as credit_node_id,
        channel,
        order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        ingested_at
    from shipment_revenue
    where revenue <> 0

    union all

    select
        {{ dbt.concat(["'pay:'", 'payments.payment_event_id']) }} as journal_id,
        'payment' as journal_type,
        payments.captured_at as posted_at,
        payments.payment_event_id as source_event_id,
        'payment_captured' as event_type,
        'cash' as debit_account,
        'accounts_receivable' as credit_account,
        round(payments.amount, 2) as amount,
        cast(null as {{ dbt.type_string() }}) as sku,
        cast(null as {{ dbt.type_string() }}) as node_id,
        cast(null as {{ dbt.type_string() }}) as debit_node_id,
        cast(null as {{ dbt.type_string() }}) as credit_node_id,
        orders.channel,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        payments.ingested_at
    from payments
    left join orders on payments.order_id = orders.order_id
    where round(payments.amount, 2) <> 0

    union all

    select
        {{ dbt.concat(["'cxl:'", 'cancellations.cancellation_id']) }} as journal_id,
        'cancellation_refund' as journal_type,
        cancellations.cancelled_at as posted_at,
        cancellations.cancellation_id as source_event_id,
        'order_cancelled' as event_type,
        'accounts_receivable' as debit_account,
        'cash' as credit_account,
        round(cancellations.refund_amount, 2) as amount,
        order_lines.sku,
        cast(null as {{ dbt.type_string() }}) as node_id,
        cast(null as {{ dbt.type_string() }}) as debit_node_id,
        cast(null as {{ dbt.type_string() }}) as credit_node_id,
        orders.channel,
        cancellations.order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        cancellations.ingested_at
    from cancellations
    left join orders on cancellations.order_id = orders.order_id
    left join order_lines on cancellations.order_line_id = order_lines.order_line_id
    where round(cancellations.refund_amount, 2) <> 0

    union all

    select
        {{ dbt.concat(["'fin:'", 'event_id']) }} as journal_id,
        event_type as journal_type,
        event_time as posted_at,
        event_id as source_event_id,
        event_type,
        case event_type
            when 'refund_paid' then 'sales_returns'
            when 'liquidation_proceeds' then 'cash'
            when 'vendor_credit' then 'cash'
            when 'reverse_logistics_cost' then 'reverse_logistics_expense'
            when 'supplier_invoice' then 'goods_received_not_invoiced'
        end as debit_account,
        case event_type
            when 'refund_paid' then 'cash'
            when 'liquidation_proceeds' then 'liquidation_recovery'
            when 'vendor_credit' then 'vendor_recovery'
            when 'reverse_logistics_cost' then 'accounts_payable'
            when 'supplier_invoice' then 'accounts_payable'
        end as credit_account,
        round(amount, 2) as amount,
        line_sku as sku,
        cast(null as {{ dbt.type_string() }}) as node_id,
        cast(null as {{ dbt.type_string() }}) as debit_node_id,
        cast(null as {{ dbt.type_string() }}) as credit_node_id,
        channel,
        line_order_line_id as order_line_id,
        line_return_line_id as return_line_id,
        ingested_at
    from ledger_enriched
    where
        event_type in (
            'refund_paid', 'liquidation_proceeds', 'vendor_credit',
            'reverse_logistics_cost', 'supplier_invoice'
        )
        and round(amount, 2) <> 0
        and not (
            event_type = 'reverse_logistics_cost'
            and event_id in (select cost_splits.event_id from cost_splits)
        )

    union all

    select
        {{ dbt.concat(["'fin:'", 'event_id', "':'", 'return_line_id']) }} as journal_id,
        event_type as journal_type,
        event_time as posted_at,
        event_id as source_event_id,
        event_type,
        'reverse_logistics_expense' as debit_account,
        'accounts_payable' as credit_account,
        amount,
        sku,
        cast(null as {{ dbt.type_string() }}) as node_id,
        cast(null as {{ dbt.type_string() }}) as debit_node_id,
        cast(null as {{ dbt.type_string() }}) as credit_node_id,
        channel,
        order_line_id,
        return_line_id,
        ingested_at
    from cost_splits
    where amount <> 0
)

select
    unioned.journal_id,
    unioned.journal_type,
    unioned.posted_at,
    unioned.source_event_id,
    unioned.event_type,
    unioned.debit_account,
    unioned.credit_account,
    cast(unioned.amount as decimal(18, 2)) as amount,
    unioned.sku,
    unioned.node_id,
    unioned.debit_node_id,
    unioned.credit_node_id,
    coalesce(unioned.channel, order_lines.channel, return_lines.channel) as channel,
    unioned.order_line_id,
    unioned.return_line_id,
    unioned.ingested_at,
    {{ build_id() }} as _build_id
from unioned
left join order_lines on unioned.order_line_id = order_lines.order_line_id
left join return_lines on unioned.return_line_id = return_lines.return_line_id
{%- if is_incremental() %}
    where unioned.posted_at >= {{ from_time }}
{%- endif %}
