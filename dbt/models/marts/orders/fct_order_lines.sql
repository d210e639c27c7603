-- depends_on: {{ ref('stg_orders__cancellations') }}, {{ ref('stg_stock__movements') }}
-- depends_on: {{ ref('stg_master__nodes') }}, {{ ref('stg_master__channels') }}
-- depends_on: {{ ref('int_stock_movements_unioned') }}
{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- One row per order line: what was ordered, cancelled, shipped (on time),
    oversold, and what it earned. See _orders__models.yml for definitions.

    Incremental: a line is recomputed when any of its own events (the line,
    its cancellations, substitutions, shipments and reservations, returns)
    was loaded after the watermark (the latest last_ingested_at built), when
    its available-to-sell at order changed (a late movement or a channel
    record can revise it; compared with what is stored, from the earliest
    time they can affect), or when it still waits for an allocation (its wait
    is measured up to data_as_of, which moves with every new event), or when
    its shipments were revalued (a movement or a master record of its SKU
    loaded since changes the average cost from its time on), or when this
    build rewrote or removed its stale-node attribution
    (int_order_lines_stale_attributed recomputes from the first order a new
    stock event can change).

    Cost: cogs = the stock ledger's value of the line's shipped units; an
    unknown cost is unknown, never 0 (cost_basis, cost_known). -#}
with

order_lines as (
    select * from {{ ref('stg_orders__order_lines') }}
),

cancellations as (
    select * from {{ ref('int_order_lines_cancellations_applied') }}
),

fulfilment as (
    select * from {{ ref('int_order_lines_fulfilment_aggregated') }}
),

availability as (
    select * from {{ ref('int_order_lines_availability_checked') }}
),

substitutions as (
    select * from {{ ref('stg_orders__substitutions') }}
),

as_of as (
    select * from {{ ref('int_events_as_of_summarised') }}
),

return_lines as (
    select * from {{ ref('int_return_lines_pivoted') }}
),

stale_attribution as (
    select * from {{ ref('int_order_lines_stale_attributed') }}
),

valued_shipments as (
    select * from {{ ref('int_stock_movements_valued') }}
    where
        event_type = 'shipped'
        and to_state = 'customer'
        and order_line_id is not null
),

products as (
    select * from {{ ref('stg_master__products') }}
),

{% if is_incremental() %}
    {%- set watermark = incremental_watermark('last_ingested_at') %}
    availability_changes as (
        -- from the first time a movement into or out of `available` loaded
        -- since is dated; everything after a node or channel record arrived
        select min(from_time) as from_time
        from (
            select min(movements.event_time) as from_time
            from {{ ref('stg_stock__movements') }} as movements
            where
                (movements.from_state = 'available' or movements.to_state = 'available')
                and movements.ingested_at > {{ watermark }}

            union all

            select min(cast('1900-01-01' as timestamp)) as from_time
            from {{ ref('stg_master__nodes') }} as nodes
            where nodes.ingested_at > {{ watermark }}

            union all

            select min(cast('1900-01-01' as timestamp)) as from_time
            from {{ ref('stg_master__channels') }} as channels
            where channels.ingested_at > {{ watermark }}
        ) as changes
    ),

    revalued_skus as (
        select
            sku,
            min(from_time) as from_time
        from (
            select
                new_movements.sku,
                min(new_movements.event_time) as from_time
            from {{ ref('int_stock_movements_unioned') }} as new_movements
            where new_movements.ingested_at > {{ watermark }}
            group by new_movements.sku

            union all

            select
                new_products.sku,
                cast('1900-01-01' as timestamp) as from_time
            from {{ ref('stg_master__products') }} as new_products
            where new_products.ingested_at > {{ watermark }}
        ) as arrivals
        group by sku
    ),

    -- read from the relations, not the CTEs above: a CTE read twice is
    -- materialised whole before the touched lines can filter it
    touched_lines as (
        select new_lines.order_line_id
        from {{ ref('stg_orders__order_lines') }} as new_lines
        where new_lines.ingested_at > {{ watermark }}

        union

        select new_fulfilment.order_line_id
        from {{ ref('int_order_lines_fulfilment_aggregated') }} as new_fulfilment
        where new_fulfilment.last_ingested_at > {{ watermark }}

        union

        select new_return_lines.order_line_id
        from {{ ref('int_return_lines_pivoted') }} as new_return_lines
        where new_return_lines.last_ingested_at > {{ watermark }}

        union

        select new_substitutions.order_line_id
        from {{ ref('stg_orders__substitutions') }} as new_substitutions
        where new_substitutions.ingested_at > {{ watermark }}

        union

        select new_cancellations.order_line_id
        from {{ ref('stg_orders__cancellations') }} as new_cancellations
        where
            new_cancellations.order_line_id is not null
            and new_cancellations.ingested_at > {{ watermark }}

        union

        -- a cancellation without a line cancels every line of its order (an
        -- equi-join of its own: with the line match above as an `or`, it
        -- would be a nested loop)
        select order_lines.order_line_id
        from {{ ref('stg_orders__cancellations') }} as new_cancellations
        inner join {{ ref('stg_orders__order_lines') }} as order_lines
            on new_cancellations.order_id = order_lines.order_id
        where
            new_cancellations.order_line_id is null
            and new_cancellations.ingested_at > {{ watermark }}

        union

        select availability.order_line_id
        from {{ ref('int_order_lines_availability_checked') }} as availability
        cross join availability_changes
        inner join {{ this }} as built
            on availability.order_line_id = built.order_line_id
        where
            availability.ordered_at >= availability_changes.from_time
            and (
                availability.qty_oversold <> built.qty_oversold
                or availability.available_to_sell_at_order <> built.available_to_sell_at_order
            )

        union

        select built.order_line_id
        from {{ this }} as built
        where built.first_allocated_at is null and built.qty_cancelled < built.qty_ordered

        union

        -- stale attribution rewritten by this build (a late stock event or report
        -- at the stale node can move it), or gone from a line that had one
        select rewritten_stale.order_line_id
        from {{ ref('int_order_lines_stale_attributed') }} as rewritten_stale
        where rewritten_stale._build_id = {{ build_id() }}

        union

        select built.order_line_id
        from {{ this }} as built
        left join {{ ref('int_order_lines_stale_attributed') }} as current_stale
            on built.order_line_id = current_stale.order_line_id
        where built.stale_node_id is not null and current_stale.order_line_id is null

        union

        -- shipments revalued: a movement of the SKU loaded since moves its average
        -- cost from that movement's time on, a new master record all of it
        select revalued_shipments.order_line_id
        from {{ ref('int_stock_movements_valued') }} as revalued_shipments
        inner join revalued_skus as revalued
            on
                revalued_shipments.sku = revalued.sku
                and revalued_shipments.event_time >= revalued.from_time
        where
            revalued_shipments.event_type = 'shipped'
            and revalued_shipments.order_line_id is not null
    ),
{% endif %}

{%- set in_touched_lines = in_recomputed_keys('order_line_id', 'touched_lines') %}

recomputed_lines as (
    select * from order_lines
    where {{ in_touched_lines }}
),

recomputed_cancellations as (
    select * from cancellations
    where {{ in_touched_lines }}
),

recomputed_fulfilment as (
    select * from fulfilment
    where {{ in_touched_lines }}
),

recomputed_availability as (
    select * from availability
    where {{ in_touched_lines }}
),

recomputed_stale_attribution as (
    select * from stale_attribution
    where {{ in_touched_lines }}
),

authorized_returns as (
    -- the numerator of the cohort return rate, carried on the line so that rates
    -- by any slice of order lines need no join with the returns
    select
        order_line_id,
        sum(quantity) as qty_return_authorized,
        max(last_ingested_at) as last_ingested_at
    from return_lines
    where authorized_at is not null and {{ in_touched_lines }}
    group by order_line_id
),

line_costs as (
    -- the worst basis of the line's shipments: a shipment valued at the master
    -- cost (no receipt at a known cost before it) has the master's basis, one
    -- valued at a weighted average of receipts is from the ledger
    select
        valued_shipments.order_line_id,
        sum(valued_shipments.cogs_value) as cogs_value,
        max(
            case
                when valued_shipments.wac_source <> 'master' then 0
                when products.cost_basis = 'unknown' then 2
                when products.cost_basis = 'assumed' then 1
                else 0
            end
        ) as cost_basis_rank
    from valued_shipments
    left join products on valued_shipments.sku = products.sku
    where {{ in_touched_lines }}
    group by valued_shipments.order_line_id
),

latest_substitution as (
    select
        order_line_id,
        substitute_sku,
        substituted_at
    from (
        select
            *,
            row_number() over (
                partition by order_line_id order by substituted_at desc, substitution_id desc
            ) as substitution_rank
        from substitutions
        where {{ in_touched_lines }}
    ) as ranked
    where substitution_rank = 1
),

joined as (
    select
        order_lines.order_id,
        order_lines.order_line_id,
        order_lines.channel,
        order_lines.sku,
        order_lines.ordered_at,
        order_lines.promised_by,
        order_lines.qty_ordered,
        coalesce(fulfilment.qty_shipped, 0) as qty_shipped,
        -- units already shipped cannot be cancelled any more
        least(
            coalesce(cancellations.qty_cancel_requested, 0),
            order_lines.qty_ordered - coalesce(fulfilment.qty_shipped, 0)
        ) as qty_cancelled,
        coalesce(fulfilment.qty_shipped_on_time, 0) as qty_shipped_on_time,
        coalesce(fulfilment.shipment_count, 0) as shipment_count,
        coalesce(fulfilment.first_shipment_qty, 0) as first_shipment_qty,
        availability.qty_oversold,
        availability.available_to_sell_at_order,
        order_lines.unit_price,
        order_lines.discount,
        order_lines.currency,
        order_lines.service_level,
        order_lines.customer_id,
        order_lines.is_customer_trusted,
        order_lines.requested_node_id,
        coalesce(fulfilment.fulfilment_node_id, order_lines.requested_node_id)
            as fulfilment_node_id,
        fulfilment.first_reserved_at,
        fulfilment.first_shipped_at,
        fulfilment.last_shipped_at,
        fulfilment.shipped_sku,
        cancellations.first_cancelled_at,
        cancellations.last_cancelled_at,
        coalesce(cancellations.cancellation_refund_amount, 0) as cancellation_refund_amount,
        cancellations.cancellation_reason,
        coalesce(cancellations.is_order_cancelled, false) as is_order_cancelled,
        latest_substitution.substitute_sku,
        latest_substitution.substituted_at,
        case
            when fulfilment.first_reserved_at is null then fulfilment.first_shipped_at
            when fulfilment.first_shipped_at is null then fulfilment.first_reserved_at
            when fulfilment.first_shipped_at < fulfilment.first_reserved_at
                then fulfilment.first_shipped_at
            else fulfilment.first_reserved_at
        end as first_allocated_at,
        coalesce(authorized_returns.qty_return_authorized, 0) as qty_return_authorized,
        -- nothing shipped costs nothing: a known 0
        coalesce(line_costs.cogs_value, 0) as cogs_value,
        case coalesce(line_costs.cost_basis_rank, 0)
            when 0 then 'ledger'
            when 1 then 'assumed'
            else 'unknown'
        end as cost_basis,
        as_of.data_as_of,
        stale_attribution.stale_node_id,
        stale_attribution.stale_node_minutes_at_order,
        coalesce(stale_attribution.qty_oversold_stale_node, 0) as qty_oversold_stale_node,
        -- the latest load time of the line's own events (the watermark)
        greatest(
            order_lines.ingested_at,
            coalesce(fulfilment.last_ingested_at, order_lines.ingested_at),
            coalesce(authorized_returns.last_ingested_at, order_lines.ingested_at)
        ) as last_ingested_at
    from recomputed_lines as order_lines
    left join recomputed_cancellations as cancellations
        on order_lines.order_line_id = cancellations.order_line_id
    left join recomputed_fulfilment as fulfilment
        on order_lines.order_line_id = fulfilment.order_line_id
    left join recomputed_availability as availability
        on order_lines.order_line_id = availability.order_line_id
    left join latest_substitution
        on order_lines.order_line_id = latest_substitution.order_line_id
    left join authorized_returns
        on order_lines.order_line_id = authorized_returns.order_line_id
    left join recomputed_stale_attribution as stale_attribution
        on order_lines.order_line_id = stale_attribution.order_line_id
    left join line_costs
        on order_lines.order_line_id = line_costs.order_line_id
    cross join as_of
),

with_open as (
    select
        *,
        qty_ordered - qty_cancelled - qty_shipped as qty_open,
        -- until when the line waited for an allocation
        coalesce(
            first_allocated_at,
            case when qty_cancelled >= qty_ordered then last_cancelled_at end,
            data_as_of
        ) as waited_until
    from joined
),

flagged as (
    select
        *,
        -- backordered: waited for an allocation (reservation or shipment)
        -- longer than the backorder threshold after it was accepted
        {{ dbt.datediff('ordered_at', 'waited_until', 'minute') }}
        > {{ var('order_backorder_after_minutes', 60) }} as is_backordered
    from with_open
)

select
    order_id,
    order_line_id,
    channel,
    sku,
    ordered_at,
    promised_by,
    cast(qty_ordered as {{ dbt.type_bigint() }}) as qty_ordered,
    cast(qty_cancelled as {{ dbt.type_bigint() }}) as qty_cancelled,
    cast(qty_shipped as {{ dbt.type_bigint() }}) as qty_shipped,
    cast(qty_shipped_on_time as {{ dbt.type_bigint() }}) as qty_shipped_on_time,
    cast(shipment_count as {{ dbt.type_bigint() }}) as shipment_count,
    cast(coalesce(qty_oversold, 0) as {{ dbt.type_bigint() }}) as qty_oversold,
    cast(
        round(unit_price * qty_shipped - discount * qty_shipped / qty_ordered, 2)
        as decimal(18, 2)
    ) as net_revenue,
    cast(qty_open as {{ dbt.type_bigint() }}) as qty_open,
    cast(first_shipment_qty as {{ dbt.type_bigint() }}) as first_shipment_qty,
    cast(unit_price as decimal(18, 4)) as unit_price,
    cast(discount as decimal(18, 4)) as discount,
    cast(
        round((unit_price * qty_ordered - discount) / qty_ordered, 6) as decimal(18, 6)
    ) as net_unit_price,
    currency,
    service_level,
    customer_id,
    is_customer_trusted,
    requested_node_id,
    fulfilment_node_id,
    cast(available_to_sell_at_order as {{ dbt.type_bigint() }}) as available_to_sell_at_order,
    is_backordered,
    (qty_shipped > 0 and first_shipment_qty < qty_ordered - qty_cancelled) as is_partial,
    (shipment_count > 1) as is_split,
    (substitute_sku is not null) as is_substituted,
    substitute_sku,
    substituted_at,
    is_order_cancelled,
    cancellation_reason,
    first_cancelled_at,
    last_cancelled_at,
    cast(cancellation_refund_amount as decimal(18, 2)) as cancellation_refund_amount,
    first_reserved_at,
    first_allocated_at,
    first_shipped_at,
    last_shipped_at,
    cast({{ dbt.date_trunc('month', 'first_shipped_at') }} as date) as ship_month,
    cast(qty_return_authorized as {{ dbt.type_bigint() }}) as qty_return_authorized,
    cast(case when cost_basis <> 'unknown' then cogs_value end as decimal(18, 2)) as cogs,
    cost_basis,
    (cost_basis <> 'unknown') as cost_known,
    cast(
        case
            when cost_basis <> 'unknown'
                then
                    round(unit_price * qty_shipped - discount * qty_shipped / qty_ordered, 2)
                    - cogs_value
        end as decimal(18, 2)
    ) as gross_margin,
    case
        when qty_cancelled >= qty_ordered then 'cancelled'
        when qty_open = 0 then 'shipped'
        when qty_shipped > 0 then 'partially_shipped'
        when first_allocated_at is not null then 'allocated'
        when is_backordered then 'backordered'
        else 'open'
    end as status,
    last_ingested_at,
    stale_node_id,
    cast(stale_node_minutes_at_order as {{ dbt.type_bigint() }}) as stale_node_minutes_at_order,
    cast(qty_oversold_stale_node as {{ dbt.type_bigint() }}) as qty_oversold_stale_node,
    {{ build_id() }} as _build_id
from flagged
