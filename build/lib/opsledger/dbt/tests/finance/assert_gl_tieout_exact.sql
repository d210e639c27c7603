-- The inventory account equals the stock ledger's value on every day.
select
    date,  -- noqa: RF04
    stock_value,
    gl_inventory_balance,
    difference
from {{ ref('fct_inventory_gl_tieout') }}
where difference <> 0
