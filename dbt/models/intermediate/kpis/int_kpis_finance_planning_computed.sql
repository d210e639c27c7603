{#- kpi_daily rows of the finance and planning KPIs (models/kpis.yml):
    margin_leakage (fct_margin_leakage.total by posting day), gross_margin and
    gross_margin_rate (fct_gross_margin_daily), supplier_otif (PO lines due, by
    expected date), supplier lead time mean and stdev (PO lines by first
    receipt date) and skus_at_replenishment_risk (a snapshot on the as-of date
    of fct_replenishment_risk only: the risk is computed for now, not per past
    day; numerator = SKUs at risk, denominator = SKUs evaluated). -#}
with

leakage as (
    select * from {{ ref('fct_margin_leakage') }}
),

margin as (
    select * from {{ ref('fct_gross_margin_daily') }}
),

po_lines as (
    select * from {{ ref('fct_po_lines') }}
),

risk as (
    select * from {{ ref('fct_replenishment_risk') }}
),

due_po_lines as (
    select
        expected_date,
        supplier_id as supplier,
        case when is_on_time_in_full then 1 else 0 end as is_otif
    from po_lines
    where is_due
),

lead_times as (
    select
        cast(first_received_at as date) as received_date,
        supplier_id as supplier,
        -- whole seconds: exact sums, so the KPI is the same on every build
        cast(round(lead_time_days * 86400) as {{ dbt.type_bigint() }}) as lead_time_seconds
    from po_lines
    where lead_time_days is not null
),

at_risk as (
    select
        as_of_date,
        category,
        case when is_at_risk then 1 else 0 end as is_at_risk
    from risk
)

{{ kpi_rollup('leakage', 'margin_leakage', ['category'], 'date',
    'sum(total)', aggregation='sum') }}

union all

{{ kpi_rollup('margin', 'gross_margin', ['channel', 'category'], 'date',
    'sum(gross_margin)', aggregation='sum') }}

union all

{{ kpi_rollup('margin', 'gross_margin_rate', ['channel', 'category'], 'date',
    'sum(gross_margin)', 'sum(net_revenue)') }}

union all

{{ kpi_rollup('due_po_lines', 'supplier_otif', ['supplier'], 'expected_date',
    'sum(is_otif)', 'count(*)') }}

union all

{{ kpi_rollup('lead_times', 'supplier_lead_time_days', ['supplier'], 'received_date',
    'sum(lead_time_seconds) / 86400.0', 'count(*)') }}

union all

{{ kpi_rollup('lead_times', 'supplier_lead_time_stdev_days', ['supplier'], 'received_date',
    none, 'count(*)', value=stddev_samp_exact('lead_time_seconds', 86400.0), aggregation='statistic') }}

union all

{{ kpi_rollup('at_risk', 'skus_at_replenishment_risk', ['category'], 'as_of_date',
    'sum(is_at_risk)', 'count(*)', value='sum(is_at_risk)', aggregation='snapshot') }}
