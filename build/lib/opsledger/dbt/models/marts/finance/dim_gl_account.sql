{#- The chart of accounts of the operational general ledger: one row per
    account with its type and normal balance, from the domain model
    (models/domain.yml gl_accounts, seed domain_gl_accounts). Balance sign
    convention: balance = sum(debit - credit), so debit-normal accounts
    (asset, expense, contra_revenue) are positive when they hold value and
    credit-normal ones (liability, revenue, other_income) negative. Posting
    rules: docs/posting-rules.md. -#}
with

accounts as (
    select * from {{ ref('domain_gl_accounts') }}
)

select
    cast(account as {{ dbt.type_string() }}) as account,
    cast(account_type as {{ dbt.type_string() }}) as account_type,
    case
        when account_type in ('asset', 'expense', 'contra_revenue') then 'debit' else 'credit'
    end as normal_balance,
    account_type in ('revenue', 'contra_revenue', 'expense', 'other_income') as is_profit_and_loss,
    cast(description as {{ dbt.type_string() }}) as account_description
from accounts
