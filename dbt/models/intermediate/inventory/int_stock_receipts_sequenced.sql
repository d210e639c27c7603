-- depends_on: {{ ref('stg_master__products') }}, {{ ref('stg_returns__return_events') }}
{{
    config(
        materialized='incremental',
        unique_key=['sku', 'receipt_seq'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- The entries at a cost that move a SKU's weighted-average cost, numbered
    per SKU in sku_seq order, with the SKU's internal on-hand (all nodes, all
    internal states) just before each: the inputs of the recurrence.
    - receipts at a cost (supplier -> internal), at their unit_cost;
    - traced customer returns (return_received): the return line's order line
      (int_return_lines_pivoted) shipped this SKU before the return; they
      re-enter at the unit COGS of those shipments, which
      int_sku_costs_averaged computes (it depends on the averages before).
    Untraced returns re-enter at the average in effect and move nothing, so
    they are not entries. The on-hand comes from int_stock_movements_unioned,
    which keeps it incrementally.

    Incremental: the entries of the SKUs stock_recompute_from names, from the
    time it names on, as int_sku_costs_averaged recomputes them (the same
    recompute, with the master records and return requests); the entries
    before keep their numbers, and the recomputed ones count on from them.
    Entries are never withdrawn (events are only added; a revoked event
    rebuilds everything), so the recomputed keys cover every changed row. -#}
with

{% if is_incremental() -%}
    recompute as (
        {{ stock_recompute_from(ref('int_stock_movements_unioned'), with_master=true) }}
    ),

    kept_before as (
        select
            built.sku,
            count(*) as seq_offset
        from {{ this }} as built
        inner join recompute on built.sku = recompute.sku
        where built.event_time < recompute.from_time
        group by built.sku
    ),

{% endif -%}
movements as (
    select * from {{ ref('int_stock_movements_unioned') }}
    where {{ in_recomputed_keys('sku', 'recompute') }}
),

recent_movements as (
    -- the movements whose entries this run computes
    {% if is_incremental() -%}
        select movements.*
        from movements
        inner join recompute
            on
                movements.sku = recompute.sku
                and movements.event_time >= recompute.from_time
    {%- else -%}
        select * from movements
    {%- endif %}
),

return_lines as (
    select * from {{ ref('int_return_lines_pivoted') }}
),

returns as (
    select
        recent_movements.movement_id,
        recent_movements.sku,
        recent_movements.sku_seq,
        coalesce(recent_movements.order_line_id, return_lines.order_line_id) as order_line_id
    from recent_movements
    left join return_lines on recent_movements.return_line_id = return_lines.return_line_id
    where
        recent_movements.event_type = 'return_received'
        and recent_movements.from_state = 'customer'
        and recent_movements.is_to_internal
),

shipments as (
    -- the first shipment of the SKU on each returned line (at any time)
    select
        sku,
        order_line_id,
        min(sku_seq) as first_shipment_seq
    from movements
    where
        event_type = 'shipped'
        and to_state = 'customer'
        and order_line_id in (select returns.order_line_id from returns)
    group by sku, order_line_id
),

traced_returns as (
    select
        returns.movement_id,
        returns.order_line_id
    from returns
    inner join shipments
        on
            returns.sku = shipments.sku
            and returns.order_line_id = shipments.order_line_id
            and returns.sku_seq > shipments.first_shipment_seq
),

entries as (
    select
        recent_movements.*,
        case when recent_movements.is_cost_receipt then 'receipt' else 'return' end as entry_kind,
        traced_returns.order_line_id as return_order_line_id
    from recent_movements
    left join traced_returns on recent_movements.movement_id = traced_returns.movement_id
    where recent_movements.is_cost_receipt or traced_returns.movement_id is not null
)

select
    entries.sku,
    cast(
        {% if is_incremental() -%}
            coalesce(kept_before.seq_offset, 0)
            +
        {% endif -%}
        row_number() over (partition by entries.sku order by entries.sku_seq)
        as {{ dbt.type_bigint() }}
    ) as receipt_seq,
    entries.sku_seq,
    entries.movement_id,
    entries.event_time,
    entries.entry_kind,
    entries.quantity,
    entries.receipt_unit_cost,
    entries.return_order_line_id,
    entries.internal_on_hand_before as on_hand_before,
    -- negative on-hand (events out of order at the source) carries no value
    case
        when entries.internal_on_hand_before > 0 then entries.internal_on_hand_before else 0
    end as carried_qty,
    entries.ingested_at,
    {{ build_id() }} as _build_id
from entries
{% if is_incremental() -%}
    left join kept_before on entries.sku = kept_before.sku
{%- endif %}
