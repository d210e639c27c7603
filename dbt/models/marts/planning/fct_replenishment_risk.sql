{#- Replenishment risk per SKU as of the data's latest order date (BRIEF
    section 6): projected available = available + in transit + on order (open
    PO units not yet received, lines of POs not closed) against the reorder
    point = mean daily demand x mean lead time
    + z x sqrt(mean lead time x sd_demand^2 + mean_demand^2 x sd_lead_time^2).
    Demand: units ordered per day over the last 90 days (the as-of day and the
    89 before, fewer when the data is younger), days without orders count as
    0; mean and sample sd computed set-based from the sums (no calendar).
    Lead time: the SKU's supplier's measured mean and sample sd
    (fct_supplier_performance); the nominal lead time with sd 0 when not
    measured. z: var replenishment_z (default 1.65, ~95% cycle service level).
    Blocked units (quality_hold, damaged, returned, resale_ready) are shown,
    and those that could cover demand before a reorder (resale_ready and
    quality_hold: inspected or awaiting release) flag whether the risk could be
    covered by releasing blocked stock. -#}
with

skus as (
    select * from {{ ref('dim_sku') }}
),

on_hand as (
    select * from {{ ref('fct_stock_on_hand') }}
),

po_lines as (
    select * from {{ ref('fct_po_lines') }}
),

suppliers as (
    select * from {{ ref('fct_supplier_performance') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

as_of as (
    select * from {{ ref('int_events_as_of_summarised') }}
),

order_bounds as (
    select
        min(cast(ordered_at as date)) as first_order_date,
        max(cast(ordered_at as date)) as last_order_date
    from order_lines
),

window_bounds as (
    select
        -- a warehouse without orders yet is as of its data's day (and has no demand)
        coalesce(order_bounds.last_order_date, cast(as_of.data_as_of as date)) as as_of_date,
        coalesce(
            least(
                90,
                {{ dbt.datediff(
                    'order_bounds.first_order_date', 'order_bounds.last_order_date', 'day'
                ) }}
                + 1
            ),
            1
        ) as window_days
    from order_bounds
    cross join as_of
),

daily_demand as (
    select
        order_lines.sku,
        cast(order_lines.ordered_at as date) as order_date,
        sum(order_lines.qty_ordered) as units
    from order_lines
    cross join window_bounds
    where
        cast(order_lines.ordered_at as date) > cast(
            {{ dbt.dateadd(
                'day', '-window_bounds.window_days', 'window_bounds.as_of_date'
            ) }} as date
        )
        and cast(order_lines.ordered_at as date) <= window_bounds.as_of_date
    group by order_lines.sku, cast(order_lines.ordered_at as date)
),

demand as (
    select
        sku,
        sum(units) as demand_units,
        sum(units * units) as demand_units_squared
    from daily_demand
    group by sku
),

stock as (
    select
        sku,
        sum(case when state = 'available' then quantity else 0 end) as available,
        sum(case when state = 'in_transit' then quantity else 0 end) as in_transit,
        sum(case when state = 'reserved' then quantity else 0 end) as reserved,
        sum(
            case
                when
                    state in ('quality_hold', 'damaged', 'returned', 'resale_ready')
                    then quantity
                else 0
            end
        ) as blocked_units,
        sum(case when state in ('quality_hold', 'resale_ready') then quantity else 0 end)
            as blocked_units_recoverable
    from on_hand
    group by sku
),

on_order as (
    select
        sku,
        sum(
            case when qty_ordered > qty_received then qty_ordered - qty_received else 0 end
        ) as on_order
    from po_lines
    where closed_at is null
    group by sku
),

inputs as (
    select
        skus.sku,
        skus.category,
        skus.supplier_id,
        window_bounds.as_of_date,
        window_bounds.window_days,
        coalesce(stock.available, 0) as available,
        coalesce(stock.in_transit, 0) as in_transit,
        coalesce(stock.reserved, 0) as reserved,
        coalesce(on_order.on_order, 0) as on_order,
        coalesce(stock.blocked_units, 0) as blocked_units,
        coalesce(stock.blocked_units_recoverable, 0) as blocked_units_recoverable,
        cast(coalesce(demand.demand_units, 0) as double) / window_bounds.window_days
            as mean_daily_demand,
        case
            when window_bounds.window_days > 1
                then sqrt(greatest(
                    (
                        cast(coalesce(demand.demand_units_squared, 0) as double)
                        - cast(coalesce(demand.demand_units, 0) as double)
                        * coalesce(demand.demand_units, 0) / window_bounds.window_days
                    ) / (window_bounds.window_days - 1),
                    0
                ))
            else 0
        end as sd_daily_demand,
        cast(
            coalesce(suppliers.lead_time_mean_days, suppliers.nominal_lead_time_days) as double
        ) as mean_lead_time_days,
        cast(
            case
                when suppliers.lead_time_mean_days is not null
                    then coalesce(suppliers.lead_time_stdev_days, 0)
                else 0
            end as double
        ) as sd_lead_time_days,
        case
            when suppliers.lead_time_mean_days is not null then 'measured' else 'nominal'
        end as lead_time_source,
        cast({{ var('replenishment_z', 1.65) }} as double) as z
    from skus
    cross join window_bounds
    left join stock on skus.sku = stock.sku
    left join on_order on skus.sku = on_order.sku
    left join demand on skus.sku = demand.sku
    left join suppliers on skus.supplier_id = suppliers.supplier_id
),

scored as (
    select
        *,
        available + in_transit + on_order as projected_available,
        mean_daily_demand * coalesce(mean_lead_time_days, 0)
        + z * sqrt(
            coalesce(mean_lead_time_days, 0) * sd_daily_demand * sd_daily_demand
            + mean_daily_demand * mean_daily_demand
            * coalesce(sd_lead_time_days, 0) * coalesce(sd_lead_time_days, 0)
        ) as reorder_point
    from inputs
)

select
    sku,
    category,
    supplier_id,
    as_of_date,
    cast(window_days as integer) as demand_window_days,
    cast(available as {{ dbt.type_bigint() }}) as available,
    cast(in_transit as {{ dbt.type_bigint() }}) as in_transit,
    cast(on_order as {{ dbt.type_bigint() }}) as on_order,
    cast(projected_available as {{ dbt.type_bigint() }}) as projected_available,
    cast(reserved as {{ dbt.type_bigint() }}) as reserved,
    mean_daily_demand,
    sd_daily_demand,
    mean_lead_time_days,
    sd_lead_time_days,
    lead_time_source,
    z,
    reorder_point,
    projected_available < reorder_point as is_at_risk,
    cast(blocked_units as {{ dbt.type_bigint() }}) as blocked_units,
    cast(blocked_units_recoverable as {{ dbt.type_bigint() }}) as blocked_units_recoverable,
    (
        projected_available < reorder_point
        and projected_available + blocked_units_recoverable >= reorder_point
    ) as is_covered_by_blocked,
    case when mean_daily_demand > 0 then available / mean_daily_demand end as days_of_supply
from scored
