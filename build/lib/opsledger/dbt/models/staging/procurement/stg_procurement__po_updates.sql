with

source as (
    select * from {{ source('procurement', 'procurement_events') }}
    where event_type in ('po_confirmed', 'asn', 'po_closed')
)

select
    event_id,
    event_type,
    po_id,
    po_line_id,
    asn_id,
    quantity,
    expected_at as expected_date,
    {{ utc_timestamp('event_time') }} as event_time,
    source,
    batch_id
from source
