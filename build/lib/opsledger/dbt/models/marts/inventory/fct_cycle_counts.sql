{#- One row per cycle count: counted versus system quantity for one SKU at one
    node, the basis of inventory record accuracy (IRA). -#}
with

counts as (
    select * from {{ ref('stg_stock__cycle_counts') }}
)

select
    cycle_count_id as count_id,
    sku,
    node_id,
    counted_at,
    cast(counted_at as date) as counted_date,
    cast(counted_qty as {{ dbt.type_bigint() }}) as counted_qty,
    cast(system_qty as {{ dbt.type_bigint() }}) as system_qty,
    cast(variance_qty as {{ dbt.type_bigint() }}) as variance,
    cast(abs(variance_qty) as {{ dbt.type_bigint() }}) as abs_variance,
    variance_qty = 0 as is_accurate,
    source,
    batch_id
from counts
