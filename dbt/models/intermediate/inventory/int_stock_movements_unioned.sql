{{
    config(
        materialized='incremental',
        unique_key='movement_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- One row per stock movement: the stock source's movements plus the returns
    portal's moving events (return_received: customer -> returned,
    disposition_decided: returned -> the disposition's state; ingest filled
    from_state / to_state from the domain model). sku_seq orders the movements
    of a SKU deterministically by (event_time, event_id), whatever order the
    events arrived in.

    Incremental: a SKU with movements loaded since the last run is
    renumbered from the time of the earliest of them (stock_recompute_from),
    counting on from the movements before it; nothing else changes. -#}
with

stock_movements as (
    select * from {{ ref('stg_stock__movements') }}
),

return_events as (
    select * from {{ ref('stg_returns__return_events') }}
),

event_types as (
    select * from {{ ref('domain_event_types') }}
),

states as (
    select * from {{ ref('domain_states') }}
),

return_movements as (
    select return_events.*
    from return_events
    inner join event_types
        on return_events.event_type = event_types.event_type
    where
        event_types.moves_stock
        and return_events.quantity is not null
),

unioned as (
    select
        event_id,
        event_type,
        event_time,
        sku,
        from_node_id,
        from_state,
        to_node_id,
        to_state,
        quantity,
        unit_cost as receipt_unit_cost,
        order_id,
        order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        transfer_id,
        po_id,
        reason_code,
        cast(null as {{ dbt.type_string() }}) as disposition,
        source,
        batch_id,
        ingested_at,
        'stock' as source_system
    from stock_movements

    union all

    select
        event_id,
        event_type,
        event_time,
        sku,
        node_id as from_node_id,
        from_state,
        node_id as to_node_id,
        to_state,
        quantity,
        cast(null as decimal(18, 6)) as receipt_unit_cost,
        order_id,
        order_line_id,
        return_line_id,
        cast(null as {{ dbt.type_string() }}) as transfer_id,
        cast(null as {{ dbt.type_string() }}) as po_id,
        reason_code,
        disposition,
        source,
        batch_id,
        ingested_at,
        'returns' as source_system
    from return_movements
),

flagged as (
    select
        unioned.*,
        coalesce(from_states.state_kind = 'internal', false) as is_from_internal,
        coalesce(to_states.state_kind = 'internal', false) as is_to_internal,
        -- change of the SKU's internal on-hand (all nodes, all internal states)
        (case when to_states.state_kind = 'internal' then unioned.quantity else 0 end)
        - (case when from_states.state_kind = 'internal' then unioned.quantity else 0 end)
            as internal_qty_delta
    from unioned
    left join states as from_states on unioned.from_state = from_states.state
    left join states as to_states on unioned.to_state = to_states.state
),

{% if is_incremental() %}
    {#- when and what loaded, read from the staging views: reading the
        `unioned` CTE here too would materialise all its rows first -#}
    {%- set movement_loads -%}
        (
            select new_movements.sku, new_movements.event_time, new_movements.ingested_at
            from {{ ref('stg_stock__movements') }} as new_movements

            union all

            select new_returns.sku, new_returns.event_time, new_returns.ingested_at
            from {{ ref('stg_returns__return_events') }} as new_returns
            inner join {{ ref('domain_event_types') }} as new_event_types
                on new_returns.event_type = new_event_types.event_type
            where new_event_types.moves_stock and new_returns.quantity is not null
        )
    {%- endset %}
    recompute as (
        {{ stock_recompute_from(movement_loads) }}
    ),

    kept_before as (
        select
            built.sku,
            count(*) as seq_offset,
            sum(built.internal_qty_delta) as on_hand_offset
        from {{ this }} as built
        inner join recompute on built.sku = recompute.sku
        where built.event_time < recompute.from_time
        group by built.sku
    ),
{% endif %}

sequenced as (
    select
        flagged.*,
        -- bigint on every engine (Spark's row_number is an int)
        cast(
            {% if is_incremental() -%}
                coalesce(kept_before.seq_offset, 0)
                +
            {% endif -%}
            row_number() over (
                partition by flagged.sku
                order by flagged.event_time, flagged.event_id
            ) as {{ dbt.type_bigint() }}
        ) as sku_seq,
        -- the SKU's internal on-hand just before the movement: carried here,
        -- where an incremental run recomputes only the SKUs' later movements,
        -- rather than summed over every movement by each reader
        {% if is_incremental() -%}
            coalesce(kept_before.on_hand_offset, 0)
            +
        {% endif -%}
        coalesce(sum(flagged.internal_qty_delta) over (
            partition by flagged.sku
            order by flagged.event_time, flagged.event_id
            rows between unbounded preceding and 1 preceding
        ), 0) as internal_on_hand_before
    from flagged
    {% if is_incremental() %}
        inner join recompute
            on
                flagged.sku = recompute.sku
                and flagged.event_time >= recompute.from_time
        left join kept_before on flagged.sku = kept_before.sku
    {% endif %}
)

select
    event_id as movement_id,
    event_id,
    event_type,
    event_time,
    sku,
    from_node_id,
    from_state,
    to_node_id,
    to_state,
    cast(quantity as {{ dbt.type_bigint() }}) as quantity,
    cast(receipt_unit_cost as decimal(18, 6)) as receipt_unit_cost,
    order_id,
    order_line_id,
    return_line_id,
    transfer_id,
    po_id,
    reason_code,
    disposition,
    source,
    source_system,
    batch_id,
    ingested_at,
    is_from_internal,
    is_to_internal,
    -- units entering at a cost move the weighted-average cost
    (
        from_state = 'supplier' and receipt_unit_cost is not null
    ) as is_cost_receipt,
    cast(internal_qty_delta as {{ dbt.type_bigint() }}) as internal_qty_delta,
    sku_seq,
    -- the running sum is 128-bit in DuckDB: cast back for every later read
    cast(internal_on_hand_before as {{ dbt.type_bigint() }}) as internal_on_hand_before,
    {{ build_id() }} as _build_id
from sequenced
