-- The grain of each inventory mart with a composite key holds.
select
    'fct_stock_on_hand' as model,
    sku,
    node_id,
    state as grain_value,
    count(*) as n
from {{ ref('fct_stock_on_hand') }}
group by sku, node_id, state
having count(*) > 1

union all

select
    'fct_stock_daily' as model,
    sku,
    node_id,
    {{ dbt.concat(["cast(date as " ~ dbt.type_string() ~ ")", "'|'", "state"]) }},
    count(*)
from {{ ref('fct_stock_daily') }}
group by sku, node_id, date, state
having count(*) > 1

union all

select
    'fct_blocked_stock' as model,
    sku,
    node_id,
    state,
    count(*)
from {{ ref('fct_blocked_stock') }}
group by sku, node_id, state
having count(*) > 1

union all

select
    'fct_inventory_aging' as model,
    sku,
    node_id,
    age_bucket,
    count(*)
from {{ ref('fct_inventory_aging') }}
group by sku, node_id, age_bucket
having count(*) > 1

union all

select
    'fct_available_to_sell' as model,
    sku,
    channel,
    null,
    count(*)
from {{ ref('fct_available_to_sell') }}
group by sku, channel
having count(*) > 1
