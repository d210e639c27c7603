-- depends_on: {{ ref('stg_master__products') }}, {{ ref('stg_returns__return_events') }}
{{
    config(
        materialized='incremental',
        unique_key='movement_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- Incremental: the movements int_stock_movements_valued revalues (those
    of a SKU from the time of its earliest movement loaded since this model's
    last run, and every movement of a SKU whose master cost changed; see
    stock_recompute_from) are replaced. Movements are never removed from the
    raw layer, so an incremental run on the same events equals a full refresh. -#}
with

valued as (
    {{ stock_recompute_rows(ref('int_stock_movements_valued'), with_master=true) }}
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
        sku_seq,
        {{ build_id() }} as _build_id
    from valued
)

select * from movements
