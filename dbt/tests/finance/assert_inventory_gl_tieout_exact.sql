-- The inventory account equals the stock ledger's value on every day.
select *
from {{ ref('fct_inventory_gl_tieout') }}
where difference <> 0
