-- The inventory account equals the stock ledger's value on every day.
select
    date,  -- noqa: RF04
    stock_value,
    gl_inventory_balance,
    difference
from {{ ref('fct_inventory_gl_tieout') }}
where
    difference <> 0
    -- a per-build audit: the days from the first this build wrote entries or stock of
    and {{ audit_days_from('date', [
        (ref('fct_gl_entries'), 'posted_date'), (ref('fct_stock_daily'), 'date')
    ]) }}
