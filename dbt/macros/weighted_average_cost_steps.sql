{#- The steps of the weighted-average cost recurrence of int_sku_costs_averaged:
    CTEs ending in `averages` (sku, step, wac_after, entry_unit_cost; step 0 is
    W_0), over that model's CTEs `entries`, `line_shipments` and `products`.
    Dispatched because the recursive CTE of the default implementation sums
    over its recursive reference (a window), which Spark rejects
    (INVALID_RECURSIVE_REFERENCE): Spark folds each SKU's entries in order
    with `aggregate` instead, carrying the same state (the average and the
    shipments awaiting a traced return) and the same rounding. -#}
{% macro weighted_average_cost_steps() %}
    {{- return(adapter.dispatch('weighted_average_cost_steps')()) -}}
{% endmacro %}


{% macro default__weighted_average_cost_steps() %}
templates as (
    -- the rows an iteration emits from a SKU's average row: the new average,
    -- and the shipments valued at it
    select
        sku,
        receipt_seq as step,
        'w' as kind,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        cast(null as {{ dbt.type_bigint() }}) as keep_until,
        cast(null as {{ dbt.type_bigint() }}) as quantity
    from entries

    union all

    select
        sku,
        after_step as step,
        'p' as kind,
        order_line_id,
        keep_until,
        quantity
    from line_shipments
    where after_step > 0 and after_step < keep_until
),

averaged (sku, step, kind, order_line_id, keep_until, quantity, unit_cost, entry_unit_cost) as (
    select
        skus.sku,
        cast(0 as {{ dbt.type_bigint() }}) as step,
        cast('w' as {{ dbt.type_string() }}) as kind,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        cast(null as {{ dbt.type_bigint() }}) as keep_until,
        cast(null as {{ dbt.type_bigint() }}) as quantity,
        cast(
            case when products.cost_basis = 'unknown' then null else products.unit_cost end
            as decimal(18, 6)
        ) as unit_cost,
        cast(null as decimal(18, 6)) as entry_unit_cost
    from (select distinct entries.sku from entries) as skus
    left join products on skus.sku = products.sku

    union all

    select
        line_shipments.sku,
        cast(0 as {{ dbt.type_bigint() }}) as step,
        cast('p' as {{ dbt.type_string() }}) as kind,
        line_shipments.order_line_id,
        cast(line_shipments.keep_until as {{ dbt.type_bigint() }}) as keep_until,
        cast(line_shipments.quantity as {{ dbt.type_bigint() }}) as quantity,
        cast(
            case when products.cost_basis = 'unknown' then null else products.unit_cost end
            as decimal(18, 6)
        ) as unit_cost,
        cast(null as decimal(18, 6)) as entry_unit_cost
    from line_shipments
    left join products on line_shipments.sku = products.sku
    where line_shipments.after_step = 0

    union all

    select
        stepped.sku,
        stepped.next_step as step,
        coalesce(templates.kind, stepped.kind) as kind,
        coalesce(templates.order_line_id, stepped.order_line_id) as order_line_id,
        coalesce(templates.keep_until, stepped.keep_until) as keep_until,
        coalesce(templates.quantity, stepped.quantity) as quantity,
        case when stepped.kind = 'p' then stepped.unit_cost else stepped.wac_after end
            as unit_cost,
        case when templates.kind = 'w' then stepped.entry_unit_cost end as entry_unit_cost
    from (
        select
            costed.*,
            cast(round(
                (
                    costed.carried_qty * coalesce(costed.unit_cost, costed.entry_unit_cost)
                    + costed.entry_quantity * costed.entry_unit_cost
                ) / (costed.carried_qty + costed.entry_quantity),
                6
            ) as decimal(18, 6)) as wac_after
        from (
            select
                lined.*,
                cast(
                    case
                        when lined.entry_kind = 'receipt' then lined.receipt_unit_cost
                        else coalesce(
                            round(lined.line_value / lined.line_quantity, 6), lined.unit_cost
                        )
                    end as decimal(18, 6)
                ) as entry_unit_cost
            from (
                select
                    cur.sku,
                    cur.kind,
                    cur.order_line_id,
                    cur.keep_until,
                    cur.quantity,
                    cur.unit_cost,
                    nxt.receipt_seq as next_step,
                    nxt.entry_kind,
                    nxt.quantity as entry_quantity,
                    nxt.carried_qty,
                    nxt.receipt_unit_cost,
                    sum(
                        case
                            when
                                cur.kind = 'p'
                                and cur.order_line_id = nxt.return_order_line_id
                                and cur.unit_cost is not null
                                then cur.quantity * cur.unit_cost
                        end
                    ) over (partition by cur.sku) as line_value,
                    sum(
                        case
                            when
                                cur.kind = 'p'
                                and cur.order_line_id = nxt.return_order_line_id
                                and cur.unit_cost is not null
                                then cur.quantity
                        end
                    ) over (partition by cur.sku) as line_quantity
                from averaged as cur
                inner join entries as nxt
                    on
                        cur.sku = nxt.sku
                        and cur.step + 1 = nxt.receipt_seq
            ) as lined
        ) as costed
    ) as stepped
    left join templates
        on
            stepped.kind = 'w'
            and stepped.sku = templates.sku
            and stepped.next_step = templates.step
    where stepped.kind = 'w' or stepped.keep_until > stepped.next_step
),

averages as (
    select
        sku,
        step,
        unit_cost as wac_after,
        entry_unit_cost
    from averaged
    where kind = 'w'
)
{% endmacro %}


{% macro spark__weighted_average_cost_steps() %}
{#- One fold per SKU over its entries in receipt order. The state: `w`, the
    average in effect; `pending`, the shipments still awaiting a later traced
    return of their line, each with the unit cost it left at; `out`, the
    averages so far. Lambdas take no local names, so the step's terms are
    spelled once here and composed. -#}
{%- set money = 'decimal(18, 6)' -%}
{%- set matching = "filter(state.pending, p -> p.order_line_id = e.return_order_line_id and p.unit_cost is not null)" -%}
{%- set line_quantity = "aggregate(" ~ matching ~ ", cast(0 as bigint), (total, p) -> total + p.quantity)" -%}
{%- set line_value = "aggregate(" ~ matching ~ ", cast(0 as decimal(38, 6)), (total, p) -> cast(total + p.quantity * p.unit_cost as decimal(38, 6)))" -%}
{%- set entry_unit_cost -%}
cast(
    case
        when e.entry_kind = 'receipt' then e.receipt_unit_cost
        else coalesce(
            case when {{ line_quantity }} > 0 then round({{ line_value }} / {{ line_quantity }}, 6) end,
            state.w
        )
    end as {{ money }}
)
{%- endset -%}
{%- set wac_after -%}
cast(round(
    (e.carried_qty * coalesce(state.w, {{ entry_unit_cost }}) + e.quantity * {{ entry_unit_cost }})
    / (e.carried_qty + e.quantity),
    6
) as {{ money }})
{%- endset -%}
sku_steps as (
    select
        sku,
        array_sort(collect_list(struct(
            cast(receipt_seq as bigint) as receipt_seq,
            entry_kind,
            cast(quantity as bigint) as quantity,
            cast(carried_qty as bigint) as carried_qty,
            cast(receipt_unit_cost as {{ money }}) as receipt_unit_cost,
            return_order_line_id
        ))) as steps
    from entries
    group by sku
),

sku_shipments as (
    select
        sku,
        collect_list(struct(
            cast(after_step as bigint) as after_step,
            order_line_id,
            cast(keep_until as bigint) as keep_until,
            cast(quantity as bigint) as quantity
        )) as shipments
    from line_shipments
    where after_step < keep_until
    group by sku
),

started as (
    select
        sku_steps.sku,
        sku_steps.steps,
        coalesce(sku_shipments.shipments, array()) as shipments,
        cast(
            case when products.cost_basis = 'unknown' then null else products.unit_cost end
            as {{ money }}
        ) as first_cost
    from sku_steps
    left join sku_shipments on sku_steps.sku = sku_shipments.sku
    left join products on sku_steps.sku = products.sku
),

folded as (
    select
        sku,
        aggregate(
            steps,
            named_struct(
                'w', first_cost,
                'pending', transform(
                    filter(shipments, s -> s.after_step = 0),
                    s -> named_struct(
                        'order_line_id', s.order_line_id,
                        'keep_until', s.keep_until,
                        'quantity', s.quantity,
                        'unit_cost', first_cost
                    )
                ),
                'out', array(named_struct(
                    'step', cast(0 as bigint),
                    'wac_after', first_cost,
                    'entry_unit_cost', cast(null as {{ money }})
                ))
            ),
            (state, e) -> named_struct(
                'w', {{ wac_after }},
                'pending', concat(
                    filter(state.pending, p -> p.keep_until > e.receipt_seq),
                    transform(
                        filter(shipments, s -> s.after_step = e.receipt_seq),
                        s -> named_struct(
                            'order_line_id', s.order_line_id,
                            'keep_until', s.keep_until,
                            'quantity', s.quantity,
                            'unit_cost', {{ wac_after }}
                        )
                    )
                ),
                'out', concat(state.out, array(named_struct(
                    'step', e.receipt_seq,
                    'wac_after', {{ wac_after }},
                    'entry_unit_cost', {{ entry_unit_cost }}
                )))
            )
        ) as state
    from started
),

averages as (
    select
        folded.sku,
        averaged.step,
        averaged.wac_after,
        averaged.entry_unit_cost
    from folded
    lateral view explode(folded.state.out) exploded as averaged
)
{% endmacro %}
