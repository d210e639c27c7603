{#- Every governed KPI (models/kpis.yml, seed domain_kpis) per day and
    dimension (public contract): one definition each, computed in the
    int_kpis_*_computed models from the marts. See _kpis__models.yml for the
    definitions, the aggregation kinds and what is snapshot vs flow. -#}
with

fulfilment as (
    select * from {{ ref('int_kpis_fulfilment_computed') }}
),

returns as (
    select * from {{ ref('int_kpis_returns_computed') }}
),

inventory as (
    select * from {{ ref('int_kpis_inventory_computed') }}
),

finance_planning as (
    select * from {{ ref('int_kpis_finance_planning_computed') }}
),

kpis as (
    select * from {{ ref('domain_kpis') }}
),

unioned as (
    select * from fulfilment
    union all
    select * from returns
    union all
    select * from inventory
    union all
    select * from finance_planning
)

select
    cast(unioned.date as date) as date,  -- noqa: RF04
    cast(unioned.kpi as {{ dbt.type_string() }}) as kpi,
    cast(unioned.dimension as {{ dbt.type_string() }}) as dimension,
    cast(unioned.dimension_value as {{ dbt.type_string() }}) as dimension_value,
    cast(unioned.value as double) as value,  -- noqa: RF04
    cast(unioned.numerator as double) as numerator,
    cast(unioned.denominator as double) as denominator,
    cast(unioned.aggregation as {{ dbt.type_string() }}) as aggregation,
    kpis.kpi_name,
    kpis.unit
from unioned
left join kpis on unioned.kpi = kpis.kpi
where unioned.date is not null
