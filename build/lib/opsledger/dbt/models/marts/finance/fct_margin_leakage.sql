{#- Margin leakage per day x category x channel (models/kpis.yml
    margin_leakage), read from the general ledger (fct_gl_entries):
    - reverse_logistics_cost: return shipping and handling (per return line);
    - disposition_loss: cost of returned units not restocked (dispositions to
      liquidation, vendor_return, scrap, donation) - liquidation proceeds -
      vendor credits;
    - write_offs: stock written off at cost outside the returns flow (scrap,
      damage, expired, shrink and count losses) net of found stock and count
      gains (write_offs_gross - found_stock_value);
    - refunds_without_received_return: refunds paid on return lines with no
      units received (as of the data's latest event; a later receipt removes
      them);
    - total = the four components.
    channel 'unattributed' where the cost has no order line (stock write-offs),
    category 'unknown' where it has no SKU. -#}
with

gl_entries as (
    select * from {{ ref('fct_gl_entries') }}
),

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

components as (
    select
        gl_entries.posted_date as date,  -- noqa: RF04
        coalesce(gl_entries.category, 'unknown') as category,
        coalesce(gl_entries.channel, 'unattributed') as channel,
        case
            when gl_entries.account = 'reverse_logistics_expense' then gl_entries.amount else 0
        end as reverse_logistics_cost,
        case
            when
                gl_entries.journal_type = 'disposition_write_off'
                and gl_entries.account <> 'inventory'
                then gl_entries.amount
            else 0
        end as disposition_cost,
        case
            when gl_entries.account = 'liquidation_recovery' then -gl_entries.amount else 0
        end as liquidation_proceeds,
        case
            when gl_entries.account = 'vendor_recovery' then -gl_entries.amount else 0
        end as vendor_credits,
        case
            when
                gl_entries.journal_type in ('stock_write_off', 'stock_adjustment_out')
                and gl_entries.account <> 'inventory'
                then gl_entries.amount
            else 0
        end as write_offs_gross,
        case
            when
                gl_entries.journal_type = 'stock_adjustment_in'
                and gl_entries.account <> 'inventory'
                then -gl_entries.amount
            else 0
        end as found_stock_value,
        case
            when
                gl_entries.account = 'sales_returns'
                and coalesce(return_lines.qty_received, 0) = 0
                then gl_entries.amount
            else 0
        end as refunds_without_received_return
    from gl_entries
    left join return_lines on gl_entries.return_line_id = return_lines.return_line_id
    where
        gl_entries.account in (
            'reverse_logistics_expense', 'liquidation_recovery', 'vendor_recovery', 'sales_returns'
        )
        or gl_entries.journal_type in (
            'disposition_write_off',
            'stock_write_off',
            'stock_adjustment_out',
            'stock_adjustment_in'
        )
),

daily as (
    select
        date,
        category,
        channel,
        sum(reverse_logistics_cost) as reverse_logistics_cost,
        sum(disposition_cost) as disposition_cost,
        sum(liquidation_proceeds) as liquidation_proceeds,
        sum(vendor_credits) as vendor_credits,
        sum(write_offs_gross) as write_offs_gross,
        sum(found_stock_value) as found_stock_value,
        sum(refunds_without_received_return) as refunds_without_received_return
    from components
    group by date, category, channel
)

select
    date,
    category,
    channel,
    cast(reverse_logistics_cost as decimal(18, 2)) as reverse_logistics_cost,
    cast(disposition_cost as decimal(18, 2)) as disposition_cost,
    cast(liquidation_proceeds as decimal(18, 2)) as liquidation_proceeds,
    cast(vendor_credits as decimal(18, 2)) as vendor_credits,
    cast(disposition_cost - liquidation_proceeds - vendor_credits as decimal(18, 2))
        as disposition_loss,
    cast(write_offs_gross as decimal(18, 2)) as write_offs_gross,
    cast(found_stock_value as decimal(18, 2)) as found_stock_value,
    cast(write_offs_gross - found_stock_value as decimal(18, 2)) as write_offs,
    cast(refunds_without_received_return as decimal(18, 2)) as refunds_without_received_return,
    cast(
        reverse_logistics_cost
        + disposition_cost - liquidation_proceeds - vendor_credits
        + write_offs_gross - found_stock_value
        + refunds_without_received_return
        as decimal(18, 2)
    ) as total
from daily
