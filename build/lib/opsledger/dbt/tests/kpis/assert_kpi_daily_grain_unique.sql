-- One row per date x kpi x dimension x dimension_value.
select
    date,
    kpi,
    dimension,
    dimension_value,
    count(*) as row_count
from {{ ref('kpi_daily') }}
group by date, kpi, dimension, dimension_value
having count(*) > 1
