-- Every SLA breach is past its SLA: it waited longer than the SLA, and it ran out
-- (breached_at) before it closed or before the data's as-of time.
with

breaches as (
    select * from {{ ref('fct_sla_breaches') }}
)

select
    breach_id,
    sla_minutes,
    age_minutes,
    breached_at,
    closed_at
from breaches
where
    minutes_over_sla <= 0
    or (
        breach_type not in ('stock_latency', 'stale_feed')
        and breached_at > coalesce(closed_at, data_as_of)
    )
