with

supplier_events as (
    select * from {{ source('master', 'master_events') }}
    where event_type = 'supplier_upserted'
),

latest as (
    {{ latest_per_key('supplier_events', 'supplier_id') }}
)

select
    supplier_id,
    coalesce(name, supplier_id) as supplier_name,
    lead_time_days as nominal_lead_time_days,
    {{ utc_timestamp('event_time') }} as updated_at,
    event_id as source_event_id
from latest
