-- depends_on: {{ ref('fct_stock_movements') }}, {{ ref('stg_master__products') }}
-- depends_on: {{ ref('stg_orders__order_lines') }}, {{ ref('stg_orders__payments') }}
-- depends_on: {{ ref('stg_finance__ledger_events') }}, {{ ref('stg_returns__return_events') }}
-- depends_on: {{ ref('fct_return_lines') }}, {{ ref('stg_orders__cancellations') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='recompute',
        recompute_column='posted_at',
        recompute_from='gl_recompute_from',
        on_schema_change='fail',
    )
}}
{#- One row per journal line of the operational general ledger (public
    contract). Two-line journals come from int_gl_journals_unioned (posting
    rules there); revaluation journals (one per SKU and day with a nonzero
    int_inventory_revaluations_computed) post each node's revaluation to
    inventory and the SKU's total to inventory_revaluation; their
    source_event_id is the event that caused them (the day's last entry that
    moved the SKU's average, else the SKU's last movement that day), so every
    journal line traces to an event. debit and credit
    are >= 0 with exactly one of them > 0; amount = debit - credit.

    Incremental (strategy recompute): the journals posted from the first day
    gl_recompute_from names, as the intermediate models recompute them. -#}
with

journals as (
    select * from {{ ref('int_gl_journals_unioned') }}
),

revaluations as (
    select * from {{ ref('int_inventory_revaluations_computed') }}
),

accounts as (
    select * from {{ ref('dim_gl_account') }}
),

skus as (
    select * from {{ ref('dim_sku') }}
),

movements as (
    select * from {{ ref('fct_stock_movements') }}
),

{% if is_incremental() %}
    {%- set from_time = recompute_bound(gl_recompute_from(incremental_watermark('ingested_at'))) %}

    recomputed_journals as (
        select journals.*
        from journals
        where journals.posted_at >= {{ from_time }}
    ),

    recomputed_revaluations as (
        select revaluations.*
        from revaluations
        where revaluations.date >= {{ from_time }}
    ),
{% else %}
    recomputed_journals as (
        select * from journals
    ),

    recomputed_revaluations as (
        select * from revaluations
    ),
{% endif %}

revaluation_days as (
    select distinct
        sku,
        date
    from recomputed_revaluations
),

day_movements as (
    -- the event that caused a revaluation of a SKU on a day: the day's last
    -- entry that moved its average (a receipt, a traced return), else its
    -- last movement that day (per-movement rounding); a revaluation needs a
    -- movement of the SKU that day, as its quantity or average changed
    select
        movements.sku,
        revaluation_days.date,
        movements.event_id,
        movements.event_type,
        row_number() over (
            partition by movements.sku, revaluation_days.date
            order by
                case when movements.unit_cost_source in ('receipt', 'shipment') then 0 else 1 end,
                movements.sku_seq desc
        ) as cause_rank
    from movements
    inner join revaluation_days
        on
            movements.sku = revaluation_days.sku
            and cast(movements.event_time as date) = revaluation_days.date
),

revaluation_causes as (
    select
        sku,
        date,
        event_id,
        event_type
    from day_movements
    where cause_rank = 1
),

revaluations_caused as (
    select
        recomputed_revaluations.*,
        revaluation_causes.event_id as source_event_id,
        revaluation_causes.event_type
    from recomputed_revaluations
    left join revaluation_causes
        on
            recomputed_revaluations.sku = revaluation_causes.sku
            and recomputed_revaluations.date = revaluation_causes.date
),

lines as (
    select
        journal_id,
        1 as line_number,
        journal_type,
        posted_at,
        debit_account as account,  -- noqa: RF04
        amount,
        source_event_id,
        event_type,
        sku,
        debit_node_id as node_id,
        channel,
        order_line_id,
        return_line_id,
        ingested_at
    from recomputed_journals

    union all

    select
        journal_id,
        2 as line_number,
        journal_type,
        posted_at,
        credit_account as account,  -- noqa: RF04
        -amount as amount,
        source_event_id,
        event_type,
        sku,
        credit_node_id as node_id,
        channel,
        order_line_id,
        return_line_id,
        ingested_at
    from recomputed_journals

    union all

    select
        {{ dbt.concat(["'reval:'", 'sku', "':'", dbt.cast('date', dbt.type_string())]) }}
            as journal_id,
        1 + row_number() over (partition by sku, date order by node_id) as line_number,
        'inventory_revaluation' as journal_type,
        cast(date as timestamp) as posted_at,
        'inventory' as account,  -- noqa: RF04
        revaluation as amount,
        source_event_id,
        event_type,
        sku,
        node_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        ingested_at
    from revaluations_caused

    union all

    select
        {{ dbt.concat(["'reval:'", 'sku', "':'", dbt.cast('date', dbt.type_string())]) }}
            as journal_id,
        1 as line_number,
        'inventory_revaluation' as journal_type,
        cast(date as timestamp) as posted_at,
        'inventory_revaluation' as account,  -- noqa: RF04
        -sum(revaluation) as amount,
        source_event_id,
        event_type,
        sku,
        cast(null as {{ dbt.type_string() }}) as node_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        max(ingested_at) as ingested_at
    from revaluations_caused
    group by sku, date, source_event_id, event_type
    having sum(revaluation) <> 0
)

select
    {{ dbt.concat(['lines.journal_id', "':'", dbt.cast('lines.line_number', dbt.type_string())]) }}
        as entry_id,
    lines.journal_id,
    cast(lines.line_number as integer) as line_number,
    lines.journal_type,
    lines.posted_at,
    cast(lines.posted_at as date) as posted_date,
    lines.account,
    accounts.account_type,
    cast(case when lines.amount > 0 then lines.amount else 0 end as decimal(18, 2)) as debit,
    cast(case when lines.amount < 0 then -lines.amount else 0 end as decimal(18, 2)) as credit,
    cast(lines.amount as decimal(18, 2)) as amount,
    lines.source_event_id,
    lines.event_type,
    lines.sku,
    skus.category,
    lines.node_id,
    lines.channel,
    lines.order_line_id,
    lines.return_line_id,
    lines.ingested_at,
    {{ build_id() }} as _build_id
from lines
left join accounts on lines.account = accounts.account
left join skus on lines.sku = skus.sku
