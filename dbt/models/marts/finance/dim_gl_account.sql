{#- The chart of accounts of the operational general ledger: one row per
    account with its type and normal balance. Balance sign convention:
    balance = sum(debit - credit), so debit-normal accounts (asset, expense,
    contra_revenue) are positive when they hold value and credit-normal ones
    (liability, revenue, other_income) negative. -#}
with

accounts as (
    select
        'cash' as account,  -- noqa: RF04
        'asset' as account_type,
        'Cash and payment provider balances.' as account_description

    union all

    select
        'accounts_receivable' as account,  -- noqa: RF04
        'asset' as account_type,
        'Billed at shipment, not yet captured.' as account_description

    union all

    select
        'inventory' as account,  -- noqa: RF04
        'asset' as account_type,
        'Stock on hand at weighted-average cost.' as account_description

    union all

    select
        'goods_received_not_invoiced' as account,  -- noqa: RF04
        'liability' as account_type,
        'Receipts not yet invoiced by the supplier.' as account_description

    union all

    select
        'accounts_payable' as account,  -- noqa: RF04
        'liability' as account_type,
        'Supplier invoices and reverse logistics costs owed.' as account_description

    union all

    select
        'revenue' as account,  -- noqa: RF04
        'revenue' as account_type,
        'Net revenue of units shipped.' as account_description

    union all

    select
        'sales_returns' as account,  -- noqa: RF04
        'contra_revenue' as account_type,
        'Refunds paid to customers.' as account_description

    union all

    select
        'cogs' as account,  -- noqa: RF04
        'expense' as account_type,
        'Cost of goods shipped, less returned units re-entering stock.' as account_description

    union all

    select
        'inventory_adjustments' as account,  -- noqa: RF04
        'expense' as account_type,
        'Shrink, count differences and found stock.' as account_description

    union all

    select
        'write_off_damage' as account,  -- noqa: RF04
        'expense' as account_type,
        'Damaged or expired stock written off.' as account_description

    union all

    select
        'write_off_scrap' as account,  -- noqa: RF04
        'expense' as account_type,
        'Stock scrapped, at cost.' as account_description

    union all

    select
        'write_off_donation' as account,  -- noqa: RF04
        'expense' as account_type,
        'Stock donated, at cost.' as account_description

    union all

    select
        'liquidation_cost' as account,  -- noqa: RF04
        'expense' as account_type,
        'Cost of units sold to liquidators.' as account_description

    union all

    select
        'vendor_return_cost' as account,  -- noqa: RF04
        'expense' as account_type,
        'Cost of units returned to vendors.' as account_description

    union all

    select
        'reverse_logistics_expense' as account,  -- noqa: RF04
        'expense' as account_type,
        'Return shipping and handling.' as account_description

    union all

    select
        'inventory_revaluation' as account,  -- noqa: RF04
        'expense' as account_type,
        'Weighted-average revaluation and rounding of stock.' as account_description

    union all

    select
        'liquidation_recovery' as account,  -- noqa: RF04
        'other_income' as account_type,
        'Proceeds from liquidators.' as account_description

    union all

    select
        'vendor_recovery' as account,  -- noqa: RF04
        'other_income' as account_type,
        'Vendor credits received.' as account_description
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
