{#- One row: the latest event time across the event sources, the "now" of the
    data. Ages of open exceptions and backlogs are measured up to it, so a
    rebuild on the same events gives the same figures whenever it runs. -#}
with

order_lines as (
    select * from {{ ref('stg_orders__order_lines') }}
),

cancellations as (
    select * from {{ ref('stg_orders__cancellations') }}
),

movements as (
    select * from {{ ref('stg_stock__movements') }}
),

return_events as (
    select * from {{ ref('stg_returns__return_events') }}
),

ledger_events as (
    select * from {{ ref('stg_finance__ledger_events') }}
),

po_lines as (
    select * from {{ ref('stg_procurement__po_lines') }}
),

po_updates as (
    select * from {{ ref('stg_procurement__po_updates') }}
),

event_times as (
    select max(ordered_at) as event_time from order_lines
    union all
    select max(cancelled_at) as event_time from cancellations
    union all
    select max(event_time) as event_time from movements
    union all
    select max(event_time) as event_time from return_events
    union all
    select max(event_time) as event_time from ledger_events
    union all
    select max(created_at) as event_time from po_lines
    union all
    select max(event_time) as event_time from po_updates
)

select max(event_time) as data_as_of
from event_times
