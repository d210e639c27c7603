{#- The chart of accounts of the operational general ledger: one row per
    account with its type and normal balance. Balance sign convention:
    balance = sum(debit - credit), so debit-normal accounts (asset, expense,
    contra_revenue) are positive when they hold value and credit-normal ones
    (liability, revenue, other_income) negative. -#}
with

accounts as (
    select 'cash' as account, 'asset' as account_type, 'Cash and payment provider balances.' as account_description
    union all select 'accounts_receivable', 'asset', 'Billed at shipment, not yet captured.'
    union all select 'inventory', 'asset', 'Stock on hand at weighted-average cost.'
    union all select 'goods_received_not_invoiced', 'liability', 'Receipts not yet invoiced by the supplier.'
    union all select 'accounts_payable', 'liability', 'Supplier invoices and reverse logistics costs owed.'
    union all select 'revenue', 'revenue', 'Net revenue of units shipped.'
    union all select 'sales_returns', 'contra_revenue', 'Refunds paid to customers.'
    union all select 'cogs', 'expense', 'Cost of goods shipped, less returned units re-entering stock.'
    union all select 'inventory_adjustments', 'expense', 'Shrink, count differences and found stock.'
    union all select 'write_off_damage', 'expense', 'Damaged or expired stock written off.'
    union all select 'write_off_scrap', 'expense', 'Stock scrapped, at cost.'
    union all select 'write_off_donation', 'expense', 'Stock donated, at cost.'
    union all select 'liquidation_cost', 'expense', 'Cost of units sold to liquidators.'
    union all select 'vendor_return_cost', 'expense', 'Cost of units returned to vendors.'
    union all select 'reverse_logistics_expense', 'expense', 'Return shipping and handling.'
    union all select 'inventory_revaluation', 'expense', 'Weighted-average revaluation and rounding of stock.'
    union all select 'liquidation_recovery', 'other_income', 'Proceeds from liquidators.'
    union all select 'vendor_recovery', 'other_income', 'Vendor credits received.'
)

select
    account,
    account_type,
    case
        when account_type in ('asset', 'expense', 'contra_revenue') then 'debit' else 'credit'
    end as normal_balance,
    account_type in ('revenue', 'contra_revenue', 'expense', 'other_income') as is_profit_and_loss,
    account_description
from accounts
