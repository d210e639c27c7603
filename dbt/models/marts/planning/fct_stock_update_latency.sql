{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- One row per stock event: how late the warehouse learnt of it (models/kpis.yml
    stock update latency; issue 20). latency = the time the source reported the
    event - event_time, where that time is, in this order:
    - recorded_at, when the event carries it (the source's own clock: the BRIEF
      measures latency from it, never from a back-fill's load time);
    - the landing file's arrival (stg_ingest__landing_files), when the file
      arrived live: within backfill_after_minutes (models/domain.yml) of the
      newest event it carries;
    - else unknown (null): a back-filled export without recorded times (e.g. an
      import of a merchant's history) says nothing about latency.

    Incremental: the rows of newly loaded events; a file's newest event is
    taken over all rows of the files those events came from. -#}
with

updates as (
    select * from {{ ref('stg_stock__node_updates') }}
),

files as (
    select * from {{ ref('stg_ingest__landing_files') }}
),

thresholds as (
    select * from {{ ref('domain_thresholds') }}
),

{% if is_incremental() %}
    {%- set watermark = incremental_watermark('ingested_at') %}
    new_files as (
        select distinct source_file
        from {{ ref('stg_stock__node_updates') }}
        where ingested_at > {{ watermark }}
    ),
{% endif %}

backfill_after as (
    select cast(threshold_value as double) as minutes
    from thresholds
    where threshold = 'backfill_after_minutes'
),

file_spans as (
    select
        updates.source_file,
        max(updates.event_time) as newest_event_at
    from updates
    {% if is_incremental() %}
        inner join new_files on updates.source_file = new_files.source_file
    {% endif %}
    group by updates.source_file
),

timed as (
    select
        updates.event_id,
        updates.event_type,
        updates.node_id,
        updates.source,
        updates.event_time,
        updates.recorded_at,
        files.arrived_at,
        updates.ingested_at,
        updates.batch_id,
        updates.source_file,
        updates.submission_id is not null as is_write_back,
        file_spans.newest_event_at as file_newest_event_at,
        coalesce(
            {{ dbt.datediff('file_spans.newest_event_at', 'files.arrived_at', 'minute') }}
            <= backfill_after.minutes,
            false
        ) as is_live_arrival
    from updates
    inner join file_spans on updates.source_file = file_spans.source_file
    left join files on updates.source_file = files.source_file
    cross join backfill_after
    {% if is_incremental() %}
        where updates.ingested_at > {{ watermark }}
    {% endif %}
),

reported as (
    select
        *,
        case
            when recorded_at is not null then 'recorded_at'
            when is_live_arrival then 'arrival'
        end as latency_basis,
        case
            when recorded_at is not null then recorded_at
            when is_live_arrival then arrived_at
        end as reported_at
    from timed
)

select
    event_id,
    event_type,
    node_id,
    source,
    event_time,
    recorded_at,
    arrived_at,
    ingested_at,
    reported_at,
    latency_basis,
    cast(
        cast({{ dbt.datediff('event_time', 'reported_at', 'second') }} as double) / 60
        as double
    ) as latency_minutes,
    is_live_arrival,
    is_write_back,
    file_newest_event_at,
    source_file,
    batch_id,
    -- the same latency in whole seconds: the latency KPIs' quantiles sort integers,
    -- ~2x faster than doubles over millions of events (models/kpis.yml divisor 60)
    cast({{ dbt.datediff('event_time', 'reported_at', 'second') }} as {{ dbt.type_bigint() }})
        as latency_seconds,
    {{ build_id() }} as _build_id
from reported
