with

channel_events as (
    select * from {{ source('master', 'master_events') }}
    where event_type = 'channel_upserted'
),

latest as (
    {{ latest_per_key('channel_events', 'channel_id') }}
)

select
    channel_id,
    coalesce(name, channel_id) as channel_name,
    coalesce(safety_buffer_units, 0) as safety_buffer_units,
    {{ utc_timestamp('event_time') }} as updated_at,
    event_id as source_event_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from latest
