{#- Inventory aging now: the FIFO receipt layers on hand
    (int_inventory_layers_allocated: SKU-level layers allocated to nodes) per
    SKU x node x age bucket, over all internal states (available, reserved,
    in_transit and the blocked states), so the quantities per SKU x node equal
    on-hand. Age = days from the layer's receipt date to the as-of date (last
    movement date); value at the SKU's current weighted-average cost. The
    layers are kept incrementally; the ages move with the as-of date, so they
    are computed here on every build, over the layers only. -#}
with

layers as (
    select * from {{ ref('int_inventory_layers_allocated') }}
),

skus as (
    select * from {{ ref('dim_sku') }}
),

as_of as (
    select cast(max(event_time) as date) as as_of_date
    from {{ ref('int_stock_legs_unpivoted') }}
),

aged as (
    select
        layers.sku,
        layers.node_id,
        layers.quantity,
        layers.entered_at,
        {{ dbt.datediff(
            'cast(layers.entered_at as date)', 'as_of.as_of_date', 'day'
        ) }} as age_days
    from layers
    cross join as_of
),

classified as (
    select
        *,
        case
            when age_days <= 30 then '0-30'
            when age_days <= 60 then '31-60'
            when age_days <= 90 then '61-90'
            when age_days <= 180 then '91-180'
            else '181+'
        end as age_bucket,
        case
            when age_days <= 30 then 1
            when age_days <= 60 then 2
            when age_days <= 90 then 3
            when age_days <= 180 then 4
            else 5
        end as age_bucket_order
    from aged
),

bucketed as (
    select
        sku,
        node_id,
        age_bucket,
        age_bucket_order,
        sum(quantity) as quantity,
        min(entered_at) as oldest_received_at,
        sum(quantity * age_days) * 1.0 / sum(quantity) as avg_age_days
    from classified
    group by sku, node_id, age_bucket, age_bucket_order
)

select
    bucketed.sku,
    bucketed.node_id,
    bucketed.age_bucket,
    cast(bucketed.age_bucket_order as {{ dbt.type_int() }}) as age_bucket_order,
    cast(bucketed.quantity as {{ dbt.type_bigint() }}) as quantity,
    -- an unknown cost values nothing: null, never 0
    cast(
        case when skus.cost_basis = 'unknown' then null else skus.unit_cost end
        as decimal(18, 6)
    ) as unit_cost,
    cast(
        case
            when skus.cost_basis = 'unknown' then null
            else round(bucketed.quantity * skus.unit_cost, 2)
        end as decimal(18, 2)
    ) as value,  -- noqa: RF04
    bucketed.oldest_received_at,
    cast(round(bucketed.avg_age_days, 1) as decimal(9, 1)) as avg_age_days,
    as_of.as_of_date
from bucketed
left join skus on bucketed.sku = skus.sku
cross join as_of
