-- One row per day x channel x category (gross margin) and per day x category
-- x channel (margin leakage).
select
    'fct_gross_margin_daily' as model_name,
    date,
    channel,
    category,
    count(*) as row_count
from {{ ref('fct_gross_margin_daily') }}
group by date, channel, category
having count(*) > 1

union all

select
    'fct_margin_leakage' as model_name,
    date,
    channel,
    category,
    count(*) as row_count
from {{ ref('fct_margin_leakage') }}
group by date, channel, category
having count(*) > 1
