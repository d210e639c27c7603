{{
    config(
        materialized='incremental',
        unique_key='movement_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- The double entry of every movement, internal side only: one leg leaving
    (from_node, from_state) with -quantity and one entering
    (to_node, to_state) with +quantity; legs in external states (supplier,
    customer, adjustment, ...) are left out. The basis of on-hand, daily stock,
    blocked-stock age and FIFO aging.

    Incremental: the legs of the movements stock_recompute_from names
    (renumbered or new) are replaced. -#}
with

movements as (
    {{ stock_recompute_rows(ref('int_stock_movements_unioned')) }}
),

legs as (
    select
        movement_id,
        event_type,
        event_time,
        sku,
        sku_seq,
        from_node_id as node_id,
        from_state as state,
        -quantity as qty_delta,
        to_node_id as counterpart_node_id,
        to_state as counterpart_state,
        not is_to_internal as is_external_counterpart,
        ingested_at
    from movements
    where is_from_internal

    union all

    select
        movement_id,
        event_type,
        event_time,
        sku,
        sku_seq,
        to_node_id as node_id,
        to_state as state,
        quantity as qty_delta,
        from_node_id as counterpart_node_id,
        from_state as counterpart_state,
        not is_from_internal as is_external_counterpart,
        ingested_at
    from movements
    where is_to_internal
)

select
    movement_id,
    event_type,
    event_time,
    cast(event_time as date) as event_date,
    sku,
    sku_seq,
    node_id,
    state,
    qty_delta,
    counterpart_node_id,
    counterpart_state,
    is_external_counterpart,
    ingested_at,
    {{ build_id() }} as _build_id
from legs
