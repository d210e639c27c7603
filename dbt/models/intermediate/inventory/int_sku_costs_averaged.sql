-- depends_on: {{ ref('stg_returns__return_events') }}
{{
    config(
        materialized='incremental',
        unique_key=['sku', 'receipt_seq'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- Perpetual weighted-average cost per SKU, one row per entry at a cost
    (int_stock_receipts_sequenced: receipts, traced customer returns).

    W_k = (max(Q_before_k, 0) * W_(k-1) + q_k * c_k) / (max(Q_before_k, 0) + q_k)

    c_k is a receipt's unit_cost, or for a traced return the unit COGS of the
    shipments it came back from: the quantity-weighted unit_cost of the
    return line's order line's shipments of the SKU before the return (one
    shipment: exactly its unit_cost), so a return credits COGS what the
    shipment debited and never creates margin. Untraced returns and found
    units re-enter at the average in effect: they change the quantity, not W.
    W_0 is the master unit_cost (stock before the first receipt); unknown
    (null) when the master's cost_basis is unknown, so the first entry at a
    cost values the units carried into it at that cost (not at a placeholder
    0): W_1 = c_1; shipments before it have an unknown cost too, so a traced
    return of them before any receipt leaves W unknown.

    A shipment's cost is W in effect at it, so a return's c_k depends on an
    earlier step of the recurrence. The recurrence is not associative either,
    so it is computed exactly by a fold over each SKU's entries in order
    (dbt/macros/weighted_average_cost_steps.sql: DuckDB's list_reduce,
    Spark's aggregate), carrying the average and the shipments still
    awaiting a later traced return of their line, each with the unit cost it
    left at, until that line's last return. Each step is rounded to 6
    decimals, so the result is deterministic on every engine.

    Incremental: for each SKU stock_recompute_from names (a movement, a
    master record or a return request loaded since the watermark, each from
    the time of the earliest), the entries before that time keep their
    inputs, numbers and averages, so the recurrence resumes from the
    averages as built (`resumed`): at the last of those entries but one (the
    last one's validity ends at the next entry, which may be new), or at W_0
    when the master changed. Only the entries after it are computed again.
    The watermark is the latest load of an entry the table holds. -#}
{%- set resumes = is_incremental() and wac_resumes_from_built() -%}
with

{% if is_incremental() -%}
    recompute as (
        {{ stock_recompute_from(ref('int_stock_movements_unioned'), with_master=true) }}
    ),

{% endif -%}
sku_entries as (
    select * from {{ ref('int_stock_receipts_sequenced') }}
    where {{ in_recomputed_keys('sku', 'recompute') }}
),

movements as (
    select * from {{ ref('int_stock_movements_unioned') }}
    where {{ in_recomputed_keys('sku', 'recompute') }}
),

products as (
    select * from {{ ref('stg_master__products') }}
    where {{ in_recomputed_keys('sku', 'recompute') }}
),

returned_lines as (
    select
        sku,
        return_order_line_id as order_line_id,
        max(receipt_seq) as keep_until
    from sku_entries
    where entry_kind = 'return'
    group by sku, return_order_line_id
),

line_shipments as (
    -- the shipments of lines with a traced return, each with the entry whose
    -- average it leaves at (after_step; 0: before the first entry)
    select
        shipped.movement_id,
        shipped.sku,
        shipped.order_line_id,
        shipped.quantity,
        returned_lines.keep_until,
        coalesce(max(entries.receipt_seq), 0) as after_step
    from movements as shipped
    inner join returned_lines
        on
            shipped.sku = returned_lines.sku
            and shipped.order_line_id = returned_lines.order_line_id
    left join sku_entries as entries
        on
            shipped.sku = entries.sku
            and shipped.sku_seq > entries.sku_seq
    where shipped.event_type = 'shipped' and shipped.to_state = 'customer'
    group by
        shipped.movement_id,
        shipped.sku,
        shipped.order_line_id,
        shipped.quantity,
        returned_lines.keep_until
),

resume as (
    -- the step each SKU's recurrence starts from (see above)
    {% if resumes -%}
        select
            sku_entries.sku,
            greatest(
                count(case when sku_entries.event_time < recompute.from_time then 1 end) - 1,
                0
            ) as step
        from sku_entries
        inner join recompute on sku_entries.sku = recompute.sku
        group by sku_entries.sku
    {%- else -%}
        select distinct
            sku,
            0 as step
        from sku_entries
    {%- endif %}
),

known_averages as (
    -- the averages a recurrence can start from: W_0, the master unit_cost
    -- (unknown, null, when its cost basis is), and in an incremental run the
    -- averages as built up to the resume step
    select
        resume.sku,
        cast(0 as {{ dbt.type_bigint() }}) as step,
        cast(
            case when products.cost_basis = 'unknown' then null else products.unit_cost end
            as decimal(18, 6)
        ) as unit_cost
    from resume
    left join products on resume.sku = products.sku
    {%- if resumes %}

        union all

        select
            built.sku,
            cast(built.receipt_seq as {{ dbt.type_bigint() }}) as step,
            built.wac_after as unit_cost
        from {{ this }} as built
        inner join resume
            on
                built.sku = resume.sku
                and built.receipt_seq <= resume.step
    {%- endif %}
),

resumed as (
    -- the state at the resume step: the average, and the shipments awaiting a
    -- later traced return of their line, at the average they left at
    select
        resume.sku,
        resume.step,
        'w' as kind,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        cast(null as {{ dbt.type_bigint() }}) as keep_until,
        cast(null as {{ dbt.type_bigint() }}) as quantity,
        known.unit_cost
    from resume
    inner join known_averages as known
        on
            resume.sku = known.sku
            and resume.step = known.step

    union all

    select
        line_shipments.sku,
        resume.step,
        'p' as kind,
        line_shipments.order_line_id,
        line_shipments.keep_until,
        line_shipments.quantity,
        known.unit_cost
    from line_shipments
    inner join resume
        on
            line_shipments.sku = resume.sku
            and line_shipments.after_step <= resume.step
            and line_shipments.keep_until > resume.step
    inner join known_averages as known
        on
            line_shipments.sku = known.sku
            and line_shipments.after_step = known.step
),

entries as (
    -- the entries computed: those after the resume step
    select sku_entries.*
    from sku_entries
    inner join resume
        on
            sku_entries.sku = resume.sku
            and sku_entries.receipt_seq > resume.step
),

{{ weighted_average_cost_steps() }}

select
    entries.sku,
    entries.receipt_seq,
    entries.movement_id as entry_movement_id,
    entries.entry_kind,
    entries.sku_seq as valid_from_seq,
    lead(entries.sku_seq) over (
        partition by entries.sku order by entries.receipt_seq
    ) as valid_to_seq,
    entries.event_time as valid_from,
    lead(entries.event_time) over (
        partition by entries.sku order by entries.receipt_seq
    ) as valid_to,
    entries.quantity as receipt_quantity,
    entries.receipt_unit_cost,
    entries.return_order_line_id,
    averages.entry_unit_cost,
    entries.carried_qty,
    before_entry.wac_after as wac_before,
    averages.wac_after,
    entries.ingested_at,
    {{ build_id() }} as _build_id
from entries
inner join averages
    on
        entries.sku = averages.sku
        and entries.receipt_seq = averages.step
inner join averages as before_entry
    on
        entries.sku = before_entry.sku
        and entries.receipt_seq = before_entry.step + 1
