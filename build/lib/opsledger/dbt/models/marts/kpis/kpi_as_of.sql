{#- One row: the data's as-of time and day (public). KPIs whose rows must be
    due by "now" (fill rates, supplier OTIF) and snapshots of the latest day read
    it, in kpi_daily and in the metrics service alike. -#}
with

as_of as (
    select * from {{ ref('int_events_as_of_summarised') }}
)

select
    data_as_of,
    cast(data_as_of as date) as as_of_date
from as_of
