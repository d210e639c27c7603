-- Every journal line of the general ledger traces to an event: its
-- source_event_id is set and names an event loaded from a source (a stock or
-- returns movement, a payment, a cancellation refund, a finance ledger
-- event). Revaluation lines carry the movement that caused them.
with

events as (
    select event_id from {{ ref('stg_stock__movements') }}
    union all
    select event_id from {{ ref('stg_returns__return_events') }}
    union all
    select payment_event_id as event_id from {{ ref('stg_orders__payments') }}
    union all
    select cancellation_id as event_id from {{ ref('stg_orders__cancellations') }}
    union all
    select event_id from {{ ref('stg_finance__ledger_events') }}
),

known as (
    select distinct event_id from events
)

select
    entries.entry_id,
    entries.journal_type,
    entries.source_event_id
from {{ ref('fct_gl_entries') }} as entries
left join known on entries.source_event_id = known.event_id
where known.event_id is null and {{ audit_rows('entries') }}
