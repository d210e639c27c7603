{#- Perpetual weighted-average cost per SKU, one row per entry at a cost
    (int_stock_receipts_sequenced: receipts, traced customer returns).

    W_k = (max(Q_before_k, 0) * W_(k-1) + q_k * c_k) / (max(Q_before_k, 0) + q_k)

    c_k is a receipt's unit_cost, or for a traced return the unit COGS of the
    shipments it came back from: the quantity-weighted unit_cost of the
    return line's order line's shipments of the SKU before the return (one
    shipment: exactly its unit_cost), so a return credits COGS what the
    shipment debited and never creates margin. Untraced returns and found
    units re-enter at the average in effect: they change the quantity, not W.
    W_0 is the master unit_cost (stock before the first receipt); unknown
    (null) when the master's cost_basis is unknown, so the first entry at a
    cost values the units carried into it at that cost (not at a placeholder
    0): W_1 = c_1; shipments before it have an unknown cost too, so a traced
    return of them before any receipt leaves W unknown.

    A shipment's cost is W in effect at it, so a return's c_k depends on an
    earlier step of the recurrence. The recurrence is not associative either,
    so it is computed exactly with a recursive CTE over the entries, one
    iteration per entry of the busiest SKU, all SKUs in parallel. Each
    iteration carries one row per SKU with the average ('w') and one row per
    shipment still awaiting a later traced return of its line ('p', with the
    unit cost it left at), until that line's last return. Each step is
    rounded to 6 decimals, so the result is deterministic on every engine. -#}
with recursive

entries as (
    select * from {{ ref('int_stock_receipts_sequenced') }}
),

movements as (
    select * from {{ ref('int_stock_movements_unioned') }}
),

products as (
    select * from {{ ref('stg_master__products') }}
),

returned_lines as (
    select
        sku,
        return_order_line_id as order_line_id,
        max(receipt_seq) as keep_until
    from entries
    where entry_kind = 'return'
    group by sku, return_order_line_id
),

line_shipments as (
    -- the shipments of lines with a traced return, each with the entry whose
    -- average it leaves at (after_step; 0: before the first entry)
    select
        shipped.movement_id,
        shipped.sku,
        shipped.order_line_id,
        shipped.quantity,
        returned_lines.keep_until,
        coalesce(max(entries.receipt_seq), 0) as after_step
    from movements as shipped
    inner join returned_lines
        on
            shipped.sku = returned_lines.sku
            and shipped.order_line_id = returned_lines.order_line_id
    left join entries
        on
            shipped.sku = entries.sku
            and shipped.sku_seq > entries.sku_seq
    where shipped.event_type = 'shipped' and shipped.to_state = 'customer'
    group by
        shipped.movement_id,
        shipped.sku,
        shipped.order_line_id,
        shipped.quantity,
        returned_lines.keep_until
),

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

select
    entries.sku,
    entries.receipt_seq,
    entries.movement_id as entry_movement_id,
    entries.entry_kind,
    entries.sku_seq as valid_from_seq,
    lead(entries.sku_seq) over (
        partition by entries.sku order by entries.receipt_seq
    ) as valid_to_seq,
    entries.event_time as valid_from,
    lead(entries.event_time) over (
        partition by entries.sku order by entries.receipt_seq
    ) as valid_to,
    entries.quantity as receipt_quantity,
    entries.receipt_unit_cost,
    entries.return_order_line_id,
    averages.entry_unit_cost,
    entries.carried_qty,
    before_entry.wac_after as wac_before,
    averages.wac_after
from entries
inner join averages
    on
        entries.sku = averages.sku
        and entries.receipt_seq = averages.step
inner join averages as before_entry
    on
        entries.sku = before_entry.sku
        and entries.receipt_seq = before_entry.step + 1
