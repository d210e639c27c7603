-- Every KPI in kpi_daily is a governed KPI (domain_kpis, generated from
-- models/kpis.yml): no figure is published under a name nobody defined.
select distinct kpi_daily.kpi
from {{ ref('kpi_daily') }} as kpi_daily
left join {{ ref('domain_kpis') }} as kpis
    on kpi_daily.kpi = kpis.kpi
where kpis.kpi is null
