{#- One row per supplier: OTIF (PO lines received complete by the expected
    date / PO lines due) and lead time (first receipt - PO created) mean and
    sample standard deviation, against the supplier's nominal lead time. -#}
with

po_lines as (
    select
        *,
        -- whole seconds: exact sums, so the figures are the same on every build
        cast(round(lead_time_days * 86400) as {{ dbt.type_bigint() }}) as lead_time_seconds
    from {{ ref('fct_po_lines') }}
),

suppliers as (
    select * from {{ ref('stg_master__suppliers') }}
),

aggregated as (
    select
        supplier_id,
        count(*) as po_lines,
        sum(case when is_due then 1 else 0 end) as po_lines_due,
        sum(case when is_due and is_on_time_in_full then 1 else 0 end) as po_lines_otif,
        sum(case when is_complete then 1 else 0 end) as po_lines_complete,
        sum(qty_ordered) as units_ordered,
        sum(qty_received) as units_received,
        count(lead_time_seconds) as lead_time_samples,
        sum(lead_time_seconds) / nullif(count(lead_time_seconds), 0) / 86400.0
            as lead_time_mean_days,
        {{ stddev_samp_exact('lead_time_seconds', 86400.0) }} as lead_time_stdev_days
    from po_lines
    group by supplier_id
)

select
    aggregated.supplier_id,
    suppliers.supplier_name,
    cast(aggregated.po_lines as {{ dbt.type_bigint() }}) as po_lines,
    cast(aggregated.po_lines_due as {{ dbt.type_bigint() }}) as po_lines_due,
    cast(aggregated.po_lines_otif as {{ dbt.type_bigint() }}) as po_lines_otif,
    cast(aggregated.po_lines_complete as {{ dbt.type_bigint() }}) as po_lines_complete,
    cast(aggregated.units_ordered as {{ dbt.type_bigint() }}) as units_ordered,
    cast(aggregated.units_received as {{ dbt.type_bigint() }}) as units_received,
    cast(
        case
            when
                aggregated.po_lines_due > 0
                then cast(aggregated.po_lines_otif as double) / aggregated.po_lines_due
        end
        as double
    ) as otif_rate,
    cast(aggregated.lead_time_samples as {{ dbt.type_bigint() }}) as lead_time_samples,
    cast(aggregated.lead_time_mean_days as double) as lead_time_mean_days,
    cast(aggregated.lead_time_stdev_days as double) as lead_time_stdev_days,
    suppliers.nominal_lead_time_days
from aggregated
left join suppliers on aggregated.supplier_id = suppliers.supplier_id
