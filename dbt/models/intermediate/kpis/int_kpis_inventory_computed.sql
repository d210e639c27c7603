{#- kpi_daily rows of the inventory KPIs (models/kpis.yml): snapshots at the
    end of each day from fct_stock_daily (inventory_value, blocked_stock_value
    = states flagged blocked in domain_states, disposition_backlog_units =
    units in returned + quality_hold); the totals ('all') have a row on every
    day from the first to the last stock date (0 when nothing), breakdowns only
    where nonzero. Flows: inventory_accuracy and inventory_abs_variance_units
    (cycle counts by count date), units_received (supplier receipts by date and
    receiving node), stock update latency p50 / p95 (fct_stock_update_latency:
    reported_at - event_time in minutes where known, write-back left out, by
    event date and node). -#}
with

stock_daily as (
    select * from {{ ref('fct_stock_daily') }}
),

states as (
    select * from {{ ref('domain_states') }}
),

cycle_counts as (
    select * from {{ ref('fct_cycle_counts') }}
),

movements as (
    select * from {{ ref('fct_stock_movements') }}
),

stock_latency as (
    select * from {{ ref('fct_stock_update_latency') }}
),

skus as (
    select * from {{ ref('dim_sku') }}
),

stock as (
    select
        stock_daily.date,
        stock_daily.node_id as node,
        skus.category,
        stock_daily.quantity,
        stock_daily.value,
        case when states.is_blocked then stock_daily.value else 0 end as blocked_value,
        case
            when stock_daily.state in ('returned', 'quality_hold') then stock_daily.quantity else 0
        end as backlog_units
    from stock_daily
    left join states on stock_daily.state = states.state
    left join skus on stock_daily.sku = skus.sku
),

bounds as (
    select
        min(date) as first_date,
        max(date) as last_date
    from stock_daily
),

calendar as (
    {{ calendar_days('bounds') }}
),

stock_totals as (
    select
        calendar.date_day as date,  -- noqa: RF04
        coalesce(sum(stock.value), 0) as inventory_value,
        coalesce(sum(stock.blocked_value), 0) as blocked_value,
        coalesce(sum(stock.backlog_units), 0) as backlog_units
    from calendar
    left join stock on calendar.date_day = stock.date
    group by calendar.date_day
),

blocked_stock as (
    select * from stock
    where blocked_value <> 0
),

backlog_stock as (
    select * from stock
    where backlog_units <> 0
),

counts as (
    select
        cycle_counts.counted_date as count_date,
        cycle_counts.node_id as node,
        skus.category,
        case when cycle_counts.is_accurate then 1 else 0 end as is_accurate,
        cycle_counts.abs_variance
    from cycle_counts
    left join skus on cycle_counts.sku = skus.sku
),

receipts as (
    select
        cast(event_time as date) as event_date,
        to_node as node,
        quantity
    from movements
    where event_type = 'po_receipt'
),

latencies as (
    -- events with a known latency (fct_stock_update_latency), app forms left out
    select
        cast(event_time as date) as event_date,
        node_id as node,
        latency_minutes
    from stock_latency
    where latency_minutes is not null and not is_write_back
),

totals as (
    select
        date,
        'inventory_value' as kpi,
        'snapshot' as aggregation,
        'all' as dimension,
        'all' as dimension_value,
        cast(inventory_value as double) as value,  -- noqa: RF04
        cast(inventory_value as double) as numerator,
        cast(null as double) as denominator
    from stock_totals

    union all

    select
        date,
        'blocked_stock_value' as kpi,
        'snapshot' as aggregation,
        'all' as dimension,
        'all' as dimension_value,
        cast(blocked_value as double) as value,  -- noqa: RF04
        cast(blocked_value as double) as numerator,
        cast(null as double) as denominator
    from stock_totals

    union all

    select
        date,
        'disposition_backlog_units' as kpi,
        'snapshot' as aggregation,
        'all' as dimension,
        'all' as dimension_value,
        cast(backlog_units as double) as value,  -- noqa: RF04
        cast(backlog_units as double) as numerator,
        cast(null as double) as denominator
    from stock_totals
)

select * from totals

union all

{{ kpi_rollup('stock', 'inventory_value', ['node', 'category'], 'date',
    'sum(value)', aggregation='snapshot', include_total=false) }}

union all

{{ kpi_rollup('blocked_stock', 'blocked_stock_value', ['node', 'category'], 'date',
    'sum(blocked_value)', aggregation='snapshot', include_total=false) }}

union all

{{ kpi_rollup('backlog_stock', 'disposition_backlog_units', ['node', 'category'], 'date',
    'sum(backlog_units)', aggregation='snapshot', include_total=false) }}

union all

{{ kpi_rollup('counts', 'inventory_accuracy', ['node', 'category'], 'count_date',
    'sum(is_accurate)', 'count(*)') }}

union all

{{ kpi_rollup('counts', 'inventory_abs_variance_units', ['node', 'category'], 'count_date',
    'sum(abs_variance)', aggregation='sum') }}

union all

{{ kpi_rollup('receipts', 'units_received', ['node'], 'event_date',
    'sum(quantity)', aggregation='sum') }}

union all

{{ kpi_rollup('latencies', 'stock_update_latency_p50_minutes', ['node'], 'event_date',
    none, 'count(*)', value=percentile_cont_agg('latency_minutes', 0.5), aggregation='statistic') }}

union all

{{ kpi_rollup('latencies', 'stock_update_latency_p95_minutes', ['node'], 'event_date',
    none, 'count(*)', value=percentile_cont_agg('latency_minutes', 0.95), aggregation='statistic') }}
