-- depends_on: {{ ref('int_stock_movements_unioned') }}, {{ ref('stg_returns__return_events') }}
{{
    config(
        materialized='incremental',
        unique_key=['date', 'sku', 'node_id', 'state'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_rows_where('quantity = 0') }}",
    )
}}
{#- End-of-day stock per SKU x node x internal state x day, from the pair's
    first movement to the last movement date; days with zero units have no
    row (absence means 0). Valued at the SKU's weighted-average cost at the
    end of that day. A unit cost the ledger does not know (no entry at a cost
    yet and a master cost_basis unknown) is unknown: unit_cost and value are
    null, never 0 (cost_basis says which; the stock-value KPIs are computed
    over the rest and show their coverage).

    Incremental: the watermark is the latest ingested_at already reflected
    (max(last_ingested_at) of the table; it can only under-estimate, which
    only widens the recomputation). A SKU with movements ingested after it is
    recomputed from the date of its earliest such movement (a late event or a
    late receipt changes quantities and values from then on); every SKU is
    computed for the days after the last date already built; a SKU with a
    return whose return_requested (naming the order line whose shipments
    give the return its cost) arrived since is recomputed from that return's
    date; a SKU whose master record arrived since (its unit_cost is the fallback and starting
    average) is recomputed on every day. Nothing else moves a SKU's average.
    Only those SKUs' legs and costs are read, and only their legs from the
    day a SKU resumes (its recompute date, at the latest the day after the
    last built one) are grouped by day: the legs before it are summed per
    pair into one opening balance on the day before (the legs before a
    recompute date are unchanged, so this is the quantity the table holds
    then), so a late week costs its days, not the SKU's history. Inside the recomputed range
    pairs are emitted with zero quantities too, so merged zero rows overwrite
    stale rows, and the post-hook removes them. Every other SKU has no new
    movement, so its rows of the last built day carry over unchanged to the
    new days: an incremental run equals a full refresh. -#}
with

legs as (
    select * from {{ ref('int_stock_legs_unpivoted') }}
),

costs as (
    select * from {{ ref('int_sku_costs_averaged') }}
),

products as (
    select * from {{ ref('stg_master__products') }}
),

bounds as (
    select
        min(event_date) as first_date,
        max(event_date) as last_date
    from legs
),

{% if is_incremental() %}
    built as (
        select
            max(last_ingested_at) as ingested_through,
            max(date) as last_built_date
        from {{ this }}
    ),

    late_skus as (
        select
            legs.sku,
            min(legs.event_date) as from_date
        from legs
        cross join built
        where built.ingested_through is null or legs.ingested_at > built.ingested_through
        group by legs.sku
    ),

    repriced_skus as (
        -- the master unit_cost is the starting average and the fallback; only
        -- a SKU's own movements (late_skus) move its average otherwise
        select
            products.sku,
            cast('1900-01-01' as date) as from_date
        from products
        cross join built
        where built.ingested_through is null or products.ingested_at > built.ingested_through
    ),

    retraced_skus as (
        -- a return's cost comes from the shipments of the order line its
        -- return_requested names: a request loaded since revalues the SKU
        -- from the return's date
        select
            returned.sku,
            min(cast(returned.event_time as date)) as from_date
        from {{ ref('int_stock_movements_unioned') }} as returned
        where
            returned.return_line_id in (
                select requests.return_line_id
                from {{ ref('stg_returns__return_events') }} as requests
                cross join built
                where
                    requests.event_type = 'return_requested'
                    and (
                        built.ingested_through is null
                        or requests.ingested_at > built.ingested_through
                    )
            )
        group by returned.sku
    ),

    affected_skus as (
        -- resume_date: the first day emitted (the recompute date, at the latest
        -- the day after the last built one)
        select
            affected.sku,
            min(affected.from_date) as from_date,
            least(
                min(affected.from_date),
                max({{ dbt.dateadd('day', 1, 'built.last_built_date') }})
            ) as resume_date
        from (
            select * from late_skus
            union all
            select * from repriced_skus
            union all
            select * from retraced_skus
        ) as affected
        cross join built
        group by affected.sku
    ),

    resumed_legs as (
        select
            legs.*,
            affected_skus.resume_date
        from legs
        inner join affected_skus on legs.sku = affected_skus.sku
    ),

    opening_balances as (
        -- every pair's legs before the resume date as one change on the day
        -- before; zero balances too: they carry the SKU's latest load
        select
            sku,
            node_id,
            state,
            cast({{ dbt.dateadd('day', -1, 'resume_date') }} as date) as event_date,
            sum(qty_delta) as qty_delta,
            max(ingested_at) as max_ingested_at,
            true as is_opening
        from resumed_legs
        where event_date < resume_date
        group by sku, node_id, state, resume_date
    ),

    recomputed_legs as (
        select *
        from resumed_legs
        where event_date >= resume_date
    ),

    recomputed_costs as (
        select costs.*
        from costs
        inner join affected_skus on costs.sku = affected_skus.sku
    ),
{% else %}
    recomputed_legs as (
        select * from legs
    ),

    recomputed_costs as (
        select * from costs
    ),
{% endif %}

daily_costs as (
    select
        sku,
        cast(valid_from as date) as cost_date,
        wac_after,
        row_number() over (
            partition by sku, cast(valid_from as date)
            order by receipt_seq desc
        ) as day_rank
    from recomputed_costs
),

cost_intervals as (
    -- open intervals end on a far date rather than null: plain inequalities
    -- let the engine use a range join instead of a nested loop
    select
        sku,
        cost_date as valid_from,
        coalesce(
            lead(cost_date) over (partition by sku order by cost_date),
            cast('9999-12-31' as date)
        ) as valid_to,
        wac_after
    from daily_costs
    where day_rank = 1
),

daily_changes as (
    select
        sku,
        node_id,
        state,
        event_date,
        sum(qty_delta) as qty_delta,
        max(ingested_at) as max_ingested_at,
        false as is_opening
    from recomputed_legs
    group by sku, node_id, state, event_date
    {% if is_incremental() %}

        union all

        select * from opening_balances
    {% endif %}
),

pair_intervals as (
    select
        sku,
        node_id,
        state,
        event_date as valid_from,
        coalesce(
            lead(event_date) over (
                partition by sku, node_id, state order by event_date
            ),
            cast({{ dbt.dateadd('day', 1, '(select last_date from bounds)') }} as date)
        ) as valid_to,
        sum(qty_delta) over (
            partition by sku, node_id, state
            order by event_date
            rows between unbounded preceding and current row
        ) as quantity,
        is_opening
    from daily_changes
),

sku_ingests as (
    select
        sku,
        event_date as valid_from,
        max(max(max_ingested_at)) over (
            partition by sku
            order by event_date
            rows between unbounded preceding and current row
        ) as last_ingested_at
    from daily_changes
    group by sku, event_date
),

sku_ingest_intervals as (
    select
        sku,
        valid_from,
        coalesce(
            lead(valid_from) over (partition by sku order by valid_from),
            cast('9999-12-31' as date)
        ) as valid_to,
        last_ingested_at
    from sku_ingests
),

digits as (
    select 0 as d
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9
),

day_numbers as (
    select d1.d + 10 * d2.d + 100 * d3.d + 1000 * d4.d + 10000 * d5.d as n
    from digits as d1
    cross join digits as d2
    cross join digits as d3
    cross join digits as d4
    cross join digits as d5
),

calendar as (
    select cast({{ dbt.dateadd('day', 'day_numbers.n', 'bounds.first_date') }} as date) as date_day
    from day_numbers
    cross join bounds
    where day_numbers.n <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}
),

pair_emits as (
    -- each pair is emitted from emit_from: in a full build its first day; in an
    -- incremental run (affected SKUs only) the SKU's recompute date, at the
    -- latest the day after the last built one
    select
        pair_intervals.*,
        {% if is_incremental() %}
            affected_skus.from_date as recompute_from,
            greatest(pair_intervals.valid_from, affected_skus.resume_date) as emit_from
        {% else %}
            cast(null as date) as recompute_from,
            pair_intervals.valid_from as emit_from
        {% endif %}
    from pair_intervals
    {% if is_incremental() %}
        inner join affected_skus on pair_intervals.sku = affected_skus.sku
        -- a pair empty on the day before and unmoved since had no row to overwrite
        where not (pair_intervals.is_opening and pair_intervals.quantity = 0)
    {% else %}
        -- zero pairs leave before the join (the filter below names the calendar)
        where pair_intervals.quantity <> 0
    {% endif %}
),

pair_days as (
    select
        calendar.date_day,
        pair_emits.sku,
        pair_emits.node_id,
        pair_emits.state,
        pair_emits.quantity
    from pair_emits
    inner join calendar
        on
            pair_emits.emit_from <= calendar.date_day
            and pair_emits.valid_to > calendar.date_day
    -- inside a recomputed range zero rows overwrite stale ones (the post-hook
    -- removes them); no range in a full build
    where pair_emits.quantity <> 0 or calendar.date_day >= pair_emits.recompute_from
),

{% if is_incremental() %}
    carried_days as (
        -- SKUs without new movements: the last built day's rows, on each new day
        select
            calendar.date_day as date,  -- noqa: RF04
            last_rows.sku,
            last_rows.node_id,
            last_rows.state,
            last_rows.quantity,
            last_rows.unit_cost,
            last_rows.value,  -- noqa: RF04
            last_rows.cost_basis,
            last_rows.last_ingested_at,
            {{ build_id() }} as _build_id
        from {{ this }} as last_rows
        cross join built
        inner join calendar on built.last_built_date < calendar.date_day
        left join affected_skus on last_rows.sku = affected_skus.sku
        where
            last_rows.date = built.last_built_date
            and affected_skus.sku is null
    ),
{% endif %}

costed_days as (
    -- the ledger's average after an entry at a cost, else the master cost unless
    -- it is unknown (its placeholder values nothing)
    select
        pair_days.*,
        coalesce(
            cost_intervals.wac_after,
            case when products.cost_basis = 'unknown' then null else products.unit_cost end
        ) as unit_cost,
        case
            when cost_intervals.wac_after is not null then 'ledger'
            when products.unit_cost is null or products.cost_basis = 'unknown' then 'unknown'
            when products.cost_basis = 'assumed' then 'assumed'
            else 'ledger'
        end as cost_basis,
        sku_ingest_intervals.last_ingested_at
    from pair_days
    left join cost_intervals
        on
            pair_days.sku = cost_intervals.sku
            and pair_days.date_day >= cost_intervals.valid_from
            and pair_days.date_day < cost_intervals.valid_to
    left join products on pair_days.sku = products.sku
    left join sku_ingest_intervals
        on
            pair_days.sku = sku_ingest_intervals.sku
            and pair_days.date_day >= sku_ingest_intervals.valid_from
            and pair_days.date_day < sku_ingest_intervals.valid_to
),

recomputed_days as (
    select
        date_day as date,  -- noqa: RF04
        sku,
        node_id,
        state,
        cast(quantity as {{ dbt.type_bigint() }}) as quantity,
        cast(unit_cost as decimal(18, 6)) as unit_cost,
        cast(round(quantity * unit_cost, 2) as decimal(18, 2)) as value,  -- noqa: RF04
        cost_basis,
        last_ingested_at,
        {{ build_id() }} as _build_id
    from costed_days
)

{% if is_incremental() %}
    select * from recomputed_days
    union all
    select * from carried_days
{% else %}
    select * from recomputed_days
{% endif %}
