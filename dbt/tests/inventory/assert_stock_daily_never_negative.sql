-- No negative end-of-day quantity in an internal state. Oversold demand is
-- a backorder on the order line (fct_order_lines), never negative stock; a
-- row here means the sources booked an exit before the stock existed.
-- An operational anomaly, listed in fct_ledger_exceptions: warns, never blocks publication.
{{ config(severity='warn') }}

select *
from {{ ref('fct_stock_daily') }}
where quantity < 0 and {{ audit_rows() }}
