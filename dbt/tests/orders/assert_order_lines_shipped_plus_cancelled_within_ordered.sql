-- Units shipped and cancelled never exceed the units ordered.
-- An operational anomaly, listed in fct_ledger_exceptions: warns, never blocks publication.
{{ config(severity='warn') }}

select
    order_line_id,
    qty_ordered,
    qty_shipped,
    qty_cancelled
from {{ ref('fct_order_lines') }}
where
    {{ audit_rows() }}
    and (
        qty_shipped + qty_cancelled > qty_ordered
        or qty_shipped_on_time > qty_shipped
        or qty_oversold > qty_ordered
        or qty_oversold < 0
    )
