{#- The steps of the weighted-average cost recurrence of int_sku_costs_averaged:
    CTEs ending in `averages` (sku, step, wac_after, entry_unit_cost), over that
    model's CTEs `resumed` (per SKU, the state the recurrence starts from: a 'w'
    row with the average at that step, W_0 at step 0, and a 'p' row per shipment
    still awaiting a later traced return, with the unit cost it left at),
    `entries` (the entries after that step) and `line_shipments`. `averages`
    holds the starting step too. Both engines fold each SKU's entries in order,
    carrying the same state and the same rounding; dispatched because the
    folds are spelled differently (DuckDB's list_reduce takes no initial value
    of another type than the list's elements; Spark's aggregate does). -#}
{#- Whether an incremental run of int_sku_costs_averaged resumes each SKU's
    fold from the averages as built (DuckDB: it folds only the entries after
    the resume step), or recomputes the SKUs it names whole (Spark: the resumed
    variant, which reads the table the run replaces, failed in Spark 4.1's
    stage materialization, "Can't zip RDDs with unequal numbers of
    partitions"). -#}
{% macro wac_resumes_from_built() %}
    {{- return(adapter.dispatch('wac_resumes_from_built')()) -}}
{% endmacro %}

{% macro default__wac_resumes_from_built() %}
    {{- return(true) -}}
{% endmacro %}

{% macro spark__wac_resumes_from_built() %}
    {{- return(false) -}}
{% endmacro %}


{#- W after entry `e` of a fold whose state holds the average in `state.w`, given
    the entry's unit cost (an expression): the recurrence of int_sku_costs_averaged,
    one step rounded to 6 decimals, spelled once for both engines' folds. -#}
{% macro wac_after_entry(entry_unit_cost) -%}
cast(round(
    (e.carried_qty * coalesce(state.w, {{ entry_unit_cost }}) + e.quantity * {{ entry_unit_cost }})
    / (e.carried_qty + e.quantity),
    6
) as decimal(18, 6))
{%- endmacro %}


{% macro weighted_average_cost_steps() %}
    {{- return(adapter.dispatch('weighted_average_cost_steps')()) -}}
{% endmacro %}


{% macro default__weighted_average_cost_steps() %}
{#- One fold per SKU over its entries in receipt order (DuckDB's list_reduce),
    carrying the same state as Spark's fold below: `w`, the average in effect;
    `pending`, the shipments still awaiting a later traced return of their
    line, each with the unit cost it left at; `out`, the averages so far. Its
    accumulator has the type of the list's elements, so every element is a
    whole state (its entry's fields, and `adds`: the shipments that start
    awaiting at its step) and the first one is the starting state. A fold
    costs each SKU one pass over its own entries (a recursive CTE costs one
    iteration per entry of the busiest SKU over every SKU's entries: 255 s of
    a full build at S=4). -#}
{%- set money = 'decimal(18, 6)' -%}
{%- set shipment = 'struct(order_line_id varchar, keep_until bigint, quantity bigint)' -%}
{%- set awaiting = 'struct(order_line_id varchar, keep_until bigint, quantity bigint, unit_cost ' ~ money ~ ')' -%}
{%- set average = 'struct(step bigint, wac_after ' ~ money ~ ', entry_unit_cost ' ~ money ~ ')' -%}
{%- set state_type -%}
struct(
    receipt_seq bigint, entry_kind varchar, quantity bigint, carried_qty bigint,
    receipt_unit_cost {{ money }}, return_order_line_id varchar, adds {{ shipment }}[],
    w {{ money }}, pending {{ awaiting }}[], out {{ average }}[]
)
{%- endset -%}
{%- set matching = "list_filter(state.pending, lambda p: p.order_line_id = e.return_order_line_id and p.unit_cost is not null)" -%}
{%- set line_quantity = "list_sum(list_transform(" ~ matching ~ ", lambda p: p.quantity))" -%}
{%- set line_value = "list_sum(list_transform(" ~ matching ~ ", lambda p: p.quantity * p.unit_cost))" -%}
{%- set entry_unit_cost -%}
cast(
    case
        when e.entry_kind = 'receipt' then e.receipt_unit_cost
        else coalesce(round({{ line_value }} / {{ line_quantity }}, 6), state.w)
    end as {{ money }}
)
{%- endset -%}
{%- set wac_after = wac_after_entry(entry_unit_cost) -%}
step_adds as (
    select
        sku,
        after_step as step,
        list(
            cast(row(order_line_id, keep_until, quantity) as {{ shipment }})
            order by order_line_id, movement_id
        ) as adds
    from line_shipments
    where after_step < keep_until
    group by sku, after_step
),

sku_steps as (
    select
        entries.sku,
        list(
            cast(row(
                entries.receipt_seq, entries.entry_kind, entries.quantity, entries.carried_qty,
                entries.receipt_unit_cost, entries.return_order_line_id,
                coalesce(step_adds.adds, []), null, [], []
            ) as {{ state_type }})
            order by entries.receipt_seq
        ) as steps
    from entries
    left join step_adds
        on
            entries.sku = step_adds.sku
            and entries.receipt_seq = step_adds.step
    group by entries.sku
),

resumed_states as (
    select
        sku,
        max(case when kind = 'w' then step end) as start_step,
        max(case when kind = 'w' then unit_cost end) as start_cost,
        coalesce(
            list(
                cast(row(order_line_id, keep_until, quantity, unit_cost) as {{ awaiting }})
                order by order_line_id, keep_until, quantity
            ) filter (where kind = 'p'),
            []
        ) as pending
    from resumed
    group by sku
),

folded as (
    select
        sku_steps.sku,
        list_reduce(
            list_prepend(
                cast(row(
                    resumed_states.start_step, null, null, null, null, null, [],
                    resumed_states.start_cost, resumed_states.pending,
                    [cast(row(resumed_states.start_step, resumed_states.start_cost, null) as {{ average }})]
                ) as {{ state_type }}),
                sku_steps.steps
            ),
            lambda state, e: cast(row(
                e.receipt_seq, e.entry_kind, e.quantity, e.carried_qty,
                e.receipt_unit_cost, e.return_order_line_id, e.adds,
                {{ wac_after }},
                list_concat(
                    list_filter(state.pending, lambda p: p.keep_until > e.receipt_seq),
                    list_transform(
                        e.adds,
                        lambda s: cast(row(s.order_line_id, s.keep_until, s.quantity, {{ wac_after }}) as {{ awaiting }})
                    )
                ),
                list_append(
                    state.out,
                    cast(row(e.receipt_seq, {{ wac_after }}, {{ entry_unit_cost }}) as {{ average }})
                )
            ) as {{ state_type }})
        ) as state
    from sku_steps
    inner join resumed_states on sku_steps.sku = resumed_states.sku
),

averages as (
    select
        sku,
        averaged.step,
        averaged.wac_after,
        averaged.entry_unit_cost
    from (select sku, unnest(state.out) as averaged from folded) as unnested
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
{%- set wac_after = wac_after_entry(entry_unit_cost) -%}
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

resumed_states as (
    select
        sku,
        max(case when kind = 'w' then step end) as start_step,
        max(case when kind = 'w' then cast(unit_cost as {{ money }}) end) as start_cost,
        collect_list(case when kind = 'p' then named_struct(
            'order_line_id', cast(order_line_id as string),
            'keep_until', cast(keep_until as bigint),
            'quantity', cast(quantity as bigint),
            'unit_cost', cast(unit_cost as {{ money }})
        ) end) as pending
    from resumed
    group by sku
),

started as (
    select
        sku_steps.sku,
        sku_steps.steps,
        coalesce(sku_shipments.shipments, array()) as shipments,
        cast(resumed_states.start_step as bigint) as start_step,
        resumed_states.start_cost,
        resumed_states.pending
    from sku_steps
    inner join resumed_states on sku_steps.sku = resumed_states.sku
    left join sku_shipments on sku_steps.sku = sku_shipments.sku
),

folded as (
    select
        sku,
        aggregate(
            steps,
            named_struct(
                'w', start_cost,
                'pending', pending,
                'out', array(named_struct(
                    'step', start_step,
                    'wac_after', start_cost,
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
