-- Breakdowns are only the dimensions models/kpis.yml lists for the KPI
-- (domain_kpis.dimensions, pipe-separated), besides the total 'all'.
select distinct
    kpi_daily.kpi,
    kpi_daily.dimension
from {{ ref('kpi_daily') }} as kpi_daily
inner join {{ ref('domain_kpis') }} as kpis
    on kpi_daily.kpi = kpis.kpi
where
    kpi_daily.dimension <> 'all'
    and {{ dbt.position(dbt.concat(["'|'", 'kpi_daily.dimension', "'|'"]),
                        dbt.concat(["'|'", "coalesce(kpis.dimensions, '')", "'|'"])) }} = 0
