with

location_events as (
    select * from {{ source('master', 'master_events') }}
    where event_type = 'location_upserted'
),

latest as (
    {{ latest_per_key('location_events', 'node_id') }}
)

select
    node_id,
    coalesce(name, node_id) as node_name,
    node_type,
    channels as channels_served,
    {{ utc_timestamp('event_time') }} as updated_at,
    event_id as source_event_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from latest
