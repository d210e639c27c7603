with

product_events as (
    select * from {{ source('master', 'master_events') }}
    where event_type = 'product_upserted'
),

latest as (
    {{ latest_per_key('product_events', 'sku') }}
)

select
    sku,
    description,
    category,
    product_class,
    -- an unknown cost's unit_cost is a placeholder: 0, whatever was sent, so no
    -- movement posts a made-up value (stock of unknown cost is valued as unknown)
    case when cost_basis = 'unknown' then 0 else unit_cost end as unit_cost,
    -- a sender that says nothing about it gives its real cost
    coalesce(cost_basis, 'known') as cost_basis,
    list_price,
    supplier_id,
    coalesce(returnable, true) as is_returnable,
    coalesce(restock_allowed, true) as is_restock_allowed,
    {{ utc_timestamp('event_time') }} as updated_at,
    event_id as source_event_id,
    {{ utc_timestamp('ingested_at') }} as ingested_at
from latest
