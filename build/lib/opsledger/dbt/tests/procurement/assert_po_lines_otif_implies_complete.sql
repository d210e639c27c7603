-- A PO line on time in full is complete, received on or before its expected
-- date, and its lead time is never negative.
select
    po_line_id,
    is_complete,
    is_on_time_in_full,
    completed_at,
    expected_date,
    lead_time_days
from {{ ref('fct_po_lines') }}
where
    (is_on_time_in_full and not is_complete)
    or (is_on_time_in_full and cast(completed_at as date) > expected_date)
    or lead_time_days < 0
