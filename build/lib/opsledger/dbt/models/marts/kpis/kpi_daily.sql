{#- Every governed KPI (models/kpis.yml, seed domain_kpis) per day and
    dimension (public contract). The rows come from int_kpis_daily_computed,
    generated from the KPI definitions by the compiler the metrics service
    uses for any slice, so a one-day slice equals its kpi_daily row. -#}
with

computed as (
    select * from {{ ref('int_kpis_daily_computed') }}
),

kpis as (
    select * from {{ ref('domain_kpis') }}
)

select
    cast(computed.date as date) as date,  -- noqa: RF04
    cast(computed.kpi as {{ dbt.type_string() }}) as kpi,
    cast(computed.dimension as {{ dbt.type_string() }}) as dimension,
    cast(computed.dimension_value as {{ dbt.type_string() }}) as dimension_value,
    cast(computed.value as double) as value,  -- noqa: RF04
    cast(computed.numerator as double) as numerator,
    cast(computed.denominator as double) as denominator,
    cast(computed.aggregation as {{ dbt.type_string() }}) as aggregation,
    kpis.kpi_name,
    kpis.unit
from computed
left join kpis on computed.kpi = kpis.kpi
where computed.date is not null
