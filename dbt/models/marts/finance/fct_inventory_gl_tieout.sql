{#- The stock ledger and the general ledger tie out: for every day from the
    first to the last stock movement date, the end-of-day value of all stock
    (fct_stock_daily.value summed) against the end-of-day balance of the
    inventory account (fct_gl_entries, all postings up to that day). Units of
    unknown cost have no value (null) and post nothing (placeholder cost 0):
    stock_units_cost_unknown counts them.
    difference must be 0 (singular test assert_gl_tieout_exact).
    revaluation_balance shows how much of the inventory balance comes from
    revaluation journals (weighted-average rounding and reallocation) rather
    than from the events' own postings. -#}
with

stock_daily as (
    select * from {{ ref('fct_stock_daily') }}
),

gl_entries as (
    select * from {{ ref('fct_gl_entries') }}
),

stock_values as (
    select
        date,
        sum(value) as stock_value,
        sum(quantity) as stock_units,
        sum(case when value is null then quantity else 0 end) as stock_units_cost_unknown
    from stock_daily
    group by date
),

bounds as (
    select
        min(date) as first_date,
        max(date) as last_date
    from stock_values
),

calendar as (
    {{ calendar_days('bounds') }}
),

inventory_postings as (
    select
        posted_date,
        sum(amount) as posted_amount,
        sum(case when journal_type = 'inventory_revaluation' then amount else 0 end)
            as revaluation_amount
    from gl_entries
    where account = 'inventory'
    group by posted_date
),

daily as (
    select
        calendar.date_day as date,  -- noqa: RF04
        coalesce(stock_values.stock_value, 0) as stock_value,
        coalesce(stock_values.stock_units, 0) as stock_units,
        coalesce(stock_values.stock_units_cost_unknown, 0) as stock_units_cost_unknown,
        coalesce(inventory_postings.posted_amount, 0) as posted_amount,
        coalesce(inventory_postings.revaluation_amount, 0) as revaluation_amount
    from calendar
    left join stock_values on calendar.date_day = stock_values.date
    left join inventory_postings on calendar.date_day = inventory_postings.posted_date
),

{# postings before the first stock day (none expected) are carried in #}
opening as (
    select coalesce(sum(gl_entries.amount), 0) as opening_balance
    from gl_entries
    cross join bounds
    where gl_entries.account = 'inventory' and gl_entries.posted_date < bounds.first_date
),

balances as (
    select
        daily.date,
        daily.stock_value,
        daily.stock_units,
        daily.stock_units_cost_unknown,
        opening.opening_balance + sum(daily.posted_amount) over (
            order by daily.date rows between unbounded preceding and current row
        ) as gl_inventory_balance,
        sum(daily.revaluation_amount) over (
            order by daily.date rows between unbounded preceding and current row
        ) as revaluation_balance,
        daily.posted_amount
    from daily
    cross join opening
)

select
    date,
    cast(stock_units as {{ dbt.type_bigint() }}) as stock_units,
    cast(stock_units_cost_unknown as {{ dbt.type_bigint() }}) as stock_units_cost_unknown,
    cast(stock_value as decimal(18, 2)) as stock_value,
    cast(gl_inventory_balance as decimal(18, 2)) as gl_inventory_balance,
    cast(stock_value - gl_inventory_balance as decimal(18, 2)) as difference,
    cast(posted_amount as decimal(18, 2)) as gl_inventory_posted,
    cast(revaluation_balance as decimal(18, 2)) as revaluation_balance
from balances
