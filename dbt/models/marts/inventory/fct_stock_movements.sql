{{
    config(
        materialized='incremental',
        unique_key='movement_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- Incremental by difference: the valuation is recomputed over all events
    upstream (a late receipt changes the average cost of every later movement
    of its SKU), and only movements that are new or whose unit_cost / value
    changed are merged. Movements are never removed from the raw layer, so an
    incremental run on the same events equals a full refresh. -#}
with

valued as (
    select * from {{ ref('int_stock_movements_valued') }}
),

movements as (
    select
        movement_id,
        event_id,
        event_type,
        event_time,
        sku,
        from_node_id as from_node,
        from_state,
        to_node_id as to_node,
        to_state,
        quantity,
        unit_cost,
        value,
        cogs_value,
        wac_source as unit_cost_source,
        order_id,
        order_line_id,
        return_line_id,
        transfer_id,
        po_id,
        reason_code,
        disposition,
        source,
        batch_id,
        ingested_at,
        sku_seq
    from valued
)

select movements.*
from movements
{% if is_incremental() %}
    left join {{ this }} as existing  -- noqa: RF04
        on movements.movement_id = existing.movement_id
    where
        existing.movement_id is null
        or existing.unit_cost is distinct from movements.unit_cost
        or existing.value is distinct from movements.value
        or existing.unit_cost_source is distinct from movements.unit_cost_source
        or existing.sku_seq is distinct from movements.sku_seq
{% endif %}
