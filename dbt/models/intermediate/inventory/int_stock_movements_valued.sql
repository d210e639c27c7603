-- depends_on: {{ ref('stg_returns__return_events') }}
{{
    config(
        materialized='incremental',
        unique_key='movement_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- Every movement valued: receipts at their own unit_cost, traced customer
    returns at the unit COGS of the shipments they came back from (their
    entry cost in int_sku_costs_averaged), every other movement at the SKU's
    weighted-average cost in effect (the average after the last entry before
    it in sku_seq order; the master unit_cost before the first one), untraced
    returns too (flagged untraced_return). value = round(quantity *
    unit_cost, 2); the value of shipped movements is the COGS.

    Incremental: a late movement changes the on-hand carried into every later
    entry of its SKU, hence the averages from its time on; the movements
    stock_recompute_from names (with SKUs whose master cost changed, and the
    returns whose request, which names their order line, arrived since) are
    revalued, the average costs themselves being recomputed upstream from the
    same time on. -#}
with

movements as (
    {{ stock_recompute_rows(ref('int_stock_movements_unioned'), with_master=true) }}
),

costs as (
    select * from {{ ref('int_sku_costs_averaged') }}
),

cost_ranges as (
    -- the latest receipt's range is open: a far bound instead of null keeps
    -- the join a range join
    select
        sku,
        valid_from_seq,
        coalesce(valid_to_seq, 999999999999) as valid_to_seq,
        wac_after
    from costs
),

entry_costs as (
    select
        entry_movement_id,
        entry_kind,
        entry_unit_cost
    from costs
),

products as (
    select * from {{ ref('stg_master__products') }}
),

costed as (
    select
        {{ star_except(ref('int_stock_movements_unioned'), ['_build_id'], 'movements') }},
        coalesce(cost_ranges.wac_after, products.unit_cost) as wac_in_effect,
        entry_costs.entry_unit_cost,
        case
            when movements.is_cost_receipt then 'receipt'
            when entry_costs.entry_kind = 'return' then 'shipment'
            when movements.event_type = 'return_received' then 'untraced_return'
            when cost_ranges.wac_after is null then 'master'
            else 'weighted_average'
        end as wac_source
    from movements
    left join entry_costs on movements.movement_id = entry_costs.entry_movement_id
    left join cost_ranges
        on
            movements.sku = cost_ranges.sku
            and movements.sku_seq > cost_ranges.valid_from_seq
            and movements.sku_seq <= cost_ranges.valid_to_seq
    left join products on movements.sku = products.sku
),

valued as (
    select
        *,
        cast(
            case
                when is_cost_receipt then receipt_unit_cost
                when entry_unit_cost is not null then entry_unit_cost
                else wac_in_effect
            end
            as decimal(18, 6)
        ) as unit_cost
    from costed
)

select
    *,  -- noqa: AM04
    cast(round(quantity * unit_cost, 2) as decimal(18, 2)) as value,  -- noqa: RF04
    case
        when event_type = 'shipped' and to_state = 'customer'
            then cast(round(quantity * unit_cost, 2) as decimal(18, 2))
        else cast(0 as decimal(18, 2))
    end as cogs_value,
    {{ build_id() }} as _build_id
from valued
