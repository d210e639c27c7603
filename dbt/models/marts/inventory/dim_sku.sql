with

products as (
    select * from {{ ref('stg_master__products') }}
),

costs as (
    select * from {{ ref('int_sku_costs_averaged') }}
),

current_costs as (
    select
        sku,
        wac_after,
        receipt_seq,
        sum(case when entry_kind = 'receipt' then 1 else 0 end) over (partition by sku)
            as receipt_count,
        row_number() over (partition by sku order by receipt_seq desc) as recency
    from costs
)

select
    products.sku,
    products.description,
    products.category,
    products.product_class,
    cast(coalesce(current_costs.wac_after, products.unit_cost) as decimal(18, 6)) as unit_cost,
    case
        when current_costs.wac_after is null then 'master' else 'weighted_average'
    end as unit_cost_source,
    cast(products.unit_cost as decimal(18, 6)) as master_unit_cost,
    -- as fct_stock_daily.cost_basis: unknown = unit_cost is a placeholder
    case
        when current_costs.wac_after is not null then 'ledger'
        when products.cost_basis = 'unknown' then 'unknown'
        when products.cost_basis = 'assumed' then 'assumed'
        else 'ledger'
    end as cost_basis,
    cast(coalesce(current_costs.receipt_count, 0) as {{ dbt.type_bigint() }}) as receipt_count,
    cast(products.list_price as decimal(18, 2)) as list_price,
    products.supplier_id,
    products.is_returnable,
    products.is_restock_allowed,
    products.updated_at
from products
left join current_costs
    on
        products.sku = current_costs.sku
        and current_costs.recency = 1
