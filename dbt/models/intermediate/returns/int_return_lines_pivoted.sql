{{
    config(
        materialized='incremental',
        unique_key='return_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- One row per return line: the returns-portal steps pivoted into columns.
    Identity (return, order line, SKU, quantity, reason) comes from the first
    return_requested event; each step keeps its first time, inspection and
    disposition their latest decision.

    Incremental: a line depends on its own events only, so the lines with an
    event loaded since the last run (after the latest last_ingested_at
    built) are recomputed whole. -#}
with

return_events as (
    select * from {{ ref('stg_returns__return_events') }}
),

{% if is_incremental() %}
    touched_lines as (
        select distinct return_events.return_line_id
        from return_events
        where return_events.ingested_at > {{ incremental_watermark('last_ingested_at') }}
    ),
{% endif %}

ranked as (
    select
        return_events.*,
        row_number() over (
            partition by return_events.return_line_id, return_events.event_type
            order by return_events.event_time, return_events.event_id
        ) as first_rank,
        row_number() over (
            partition by return_events.return_line_id, return_events.event_type
            order by return_events.event_time desc, return_events.event_id desc
        ) as last_rank
    from return_events
    {% if is_incremental() %}
        inner join touched_lines
            on return_events.return_line_id = touched_lines.return_line_id
    {% endif %}
    where return_events.return_line_id is not null
),

requested as (
    select
        return_line_id,
        return_id,
        order_id,
        order_line_id,
        sku,
        quantity,
        reason_code,
        is_customer_trusted,
        event_time as requested_at
    from ranked
    where event_type = 'return_requested' and first_rank = 1
),

steps as (
    select
        return_line_id,
        min(case when event_type = 'return_authorized' then event_time end) as authorized_at,
        min(case when event_type = 'return_rejected' then event_time end) as rejected_at,
        max(
            case when event_type = 'return_rejected' and first_rank = 1 then reason_code end
        ) as rejection_reason,
        min(case when event_type = 'return_received' then event_time end) as received_at,
        sum(case when event_type = 'return_received' then quantity else 0 end) as qty_received,
        max(
            case when event_type = 'return_received' and first_rank = 1 then node_id end
        ) as received_node_id,
        max(case when event_type = 'return_inspected' then event_time end) as inspected_at,
        max(
            case when event_type = 'return_inspected' and last_rank = 1 then condition_grade end
        ) as inspected_grade,
        max(case when event_type = 'disposition_decided' then event_time end) as disposed_at,
        sum(
            case when event_type = 'disposition_decided' then quantity else 0 end
        ) as qty_disposed,
        max(
            case when event_type = 'disposition_decided' and last_rank = 1 then disposition end
        ) as disposition,
        max(
            case
                when event_type = 'disposition_decided' and last_rank = 1 then condition_grade
            end
        ) as disposition_grade,
        max(
            case when event_type = 'disposition_decided' and last_rank = 1 then node_id end
        ) as disposition_node_id,
        max(
            case when event_type = 'disposition_decided' and last_rank = 1 then submission_id end
        ) as disposition_submission_id,
        min(case when event_type = 'refund_issued' then event_time end) as refund_issued_at,
        sum(case when event_type = 'refund_issued' then amount end) as refund_issued_amount,
        min(case when event_type = 'exchange_created' then event_time end) as exchanged_at,
        max(
            case when event_type = 'exchange_created' and first_rank = 1 then exchange_order_id end
        ) as exchange_order_id,
        max(
            case when event_type = 'vendor_claim_filed' and first_rank = 1 then claim_id end
        ) as claim_id,
        sum(case when event_type = 'vendor_claim_filed' then amount end) as vendor_claim_amount,
        max(ingested_at) as last_ingested_at
    from ranked
    group by return_line_id
)

select
    requested.*,
    steps.authorized_at,
    steps.rejected_at,
    steps.rejection_reason,
    steps.received_at,
    cast(steps.qty_received as {{ dbt.type_bigint() }}) as qty_received,
    steps.received_node_id,
    steps.inspected_at,
    coalesce(steps.inspected_grade, steps.disposition_grade) as condition_grade,
    steps.disposed_at,
    cast(steps.qty_disposed as {{ dbt.type_bigint() }}) as qty_disposed,
    steps.disposition,
    steps.disposition_node_id,
    steps.disposition_submission_id,
    steps.refund_issued_at,
    steps.refund_issued_amount,
    steps.exchanged_at,
    steps.exchange_order_id,
    steps.claim_id,
    steps.vendor_claim_amount,
    steps.last_ingested_at,
    {{ build_id() }} as _build_id
from requested
inner join steps on requested.return_line_id = steps.return_line_id
