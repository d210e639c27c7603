{#- One row per landing file that delivered rows: when it arrived (its
    modification time, at the latest when ingest first saw it; homes ingested
    before arrival times were recorded fall back to the first ingest). -#}
with

source as (
    select * from {{ source('ingest', 'ingest_files') }}
    where status in ('loaded', 'empty')
)

select
    path as source_file,
    min({{ utc_timestamp('coalesce(arrived_at, ingested_at)') }}) as arrived_at,
    min({{ utc_timestamp('ingested_at') }}) as first_ingested_at
from source
group by path
