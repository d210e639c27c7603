-- Operational exceptions the ledger keeps instead of refusing: stock booked out
-- of a (SKU, node, state) before it was there (a spell of negative end-of-day
-- stock, still open or recovered), return lines disposed or received above what
-- arrived or was requested, order lines shipped above what was ordered, and
-- refunds above what was paid. One row per anomaly, with the events behind it.
with

stock_daily as (
    select * from {{ ref('fct_stock_daily') }}
),

stock_movements as (
    select * from {{ ref('fct_stock_movements') }}
),

return_lines as (
    select * from {{ ref('fct_return_lines') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

return_events as (
    select * from {{ ref('stg_returns__return_events') }}
),

ledger_events as (
    select * from {{ ref('stg_finance__ledger_events') }}
),

skus as (
    select * from {{ ref('dim_sku') }}
),

-- the warehouse's own "now": the newest stock day, so a rebuild gives the same ages
as_of as (
    select max(date) as as_of_date from stock_daily
),

negative_days as (
    select
        date,
        sku,
        node_id,
        state,
        quantity,
        value,
        {{ dbt.datediff("cast('2000-01-01' as date)", "date", "day") }}
        - row_number() over (partition by sku, node_id, state order by date) as spell
    from stock_daily
    where quantity < 0
),

negative_spells as (
    select
        sku,
        node_id,
        state,
        min(date) as first_date,
        max(date) as last_date,
        -min(quantity) as quantity,
        -min(value) as value
    from negative_days
    group by sku, node_id, state, spell
),

spell_events as (
    select
        negative_spells.sku,
        negative_spells.node_id,
        negative_spells.state,
        negative_spells.first_date,
        stock_movements.event_id
    from negative_spells
    inner join stock_movements
        on
            negative_spells.sku = stock_movements.sku
            and (
                (
                    negative_spells.node_id = stock_movements.from_node
                    and negative_spells.state = stock_movements.from_state
                )
                or (
                    negative_spells.node_id = stock_movements.to_node
                    and negative_spells.state = stock_movements.to_state
                )
            )
            and cast(stock_movements.event_time as date) >= negative_spells.first_date
            and cast(stock_movements.event_time as date)
            <= {{ dbt.dateadd("day", 1, "negative_spells.last_date") }}
),

spell_event_lists as (
    select
        sku,
        node_id,
        state,
        first_date,
        count(distinct event_id) as event_count,
        {{ dbt.listagg("distinct event_id", "','", "order by event_id") }} as event_ids
    from spell_events
    group by sku, node_id, state, first_date
),

stock_exceptions as (
    select
        case
            when negative_spells.last_date = as_of.as_of_date then 'negative_on_hand'
            else 'exit_before_receipt'
        end as exception_type,
        negative_spells.sku,
        negative_spells.node_id,
        negative_spells.state,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        negative_spells.quantity,
        cast(negative_spells.value as decimal(18, 2)) as value,
        cast(negative_spells.first_date as timestamp) as opened_at,
        case
            when negative_spells.last_date < as_of.as_of_date
                then cast({{ dbt.dateadd("day", 1, "negative_spells.last_date") }} as timestamp)
        end as resolved_at,
        spell_event_lists.event_ids,
        coalesce(spell_event_lists.event_count, 0) as event_count,
        cast(negative_spells.first_date as {{ dbt.type_string() }}) as key_suffix
    from negative_spells
    cross join as_of
    left join spell_event_lists
        on
            negative_spells.sku = spell_event_lists.sku
            and negative_spells.node_id = spell_event_lists.node_id
            and negative_spells.state = spell_event_lists.state
            and negative_spells.first_date = spell_event_lists.first_date
),

return_anomalies as (
    select
        return_line_id,
        sku,
        coalesce(disposition_node_id, received_node_id) as node_id,
        case
            when qty_disposed > coalesce(qty_received, 0) then 'over_disposed_return'
            else 'over_received_return'
        end as exception_type,
        case
            when qty_disposed > coalesce(qty_received, 0)
                then qty_disposed - coalesce(qty_received, 0)
            else qty_received - quantity
        end as quantity,
        case
            when qty_disposed > coalesce(qty_received, 0) then disposed_at
            else received_at
        end as opened_at
    from return_lines
    where qty_disposed > coalesce(qty_received, 0) or qty_received > quantity
),

return_anomaly_events as (
    select
        return_anomalies.return_line_id,
        count(distinct return_events.event_id) as event_count,
        {{ dbt.listagg(
            "distinct return_events.event_id", "','", "order by return_events.event_id"
        ) }}
            as event_ids
    from return_anomalies
    inner join return_events
        on return_anomalies.return_line_id = return_events.return_line_id
    where return_events.event_type in ('return_received', 'disposition_decided')
    group by return_anomalies.return_line_id
),

return_exceptions as (
    select
        return_anomalies.exception_type,
        return_anomalies.sku,
        return_anomalies.node_id,
        cast(null as {{ dbt.type_string() }}) as state,
        return_anomalies.return_line_id,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        return_anomalies.quantity,
        -- unknown cost: no value (null), never 0
        cast(
            case
                when skus.cost_basis = 'unknown' then null
                else return_anomalies.quantity * skus.unit_cost
            end as decimal(18, 2)
        ) as value,
        return_anomalies.opened_at,
        cast(null as timestamp) as resolved_at,
        return_anomaly_events.event_ids,
        coalesce(return_anomaly_events.event_count, 0) as event_count,
        return_anomalies.return_line_id as key_suffix
    from return_anomalies
    left join skus on return_anomalies.sku = skus.sku
    left join return_anomaly_events
        on return_anomalies.return_line_id = return_anomaly_events.return_line_id
),

over_shipped as (
    select
        order_line_id,
        sku,
        fulfilment_node_id as node_id,
        qty_shipped + qty_cancelled - qty_ordered as quantity,
        last_shipped_at as opened_at
    from order_lines
    where qty_shipped + qty_cancelled > qty_ordered
),

over_shipped_events as (
    select
        over_shipped.order_line_id,
        count(distinct stock_movements.event_id) as event_count,
        {{ dbt.listagg(
            "distinct stock_movements.event_id", "','", "order by stock_movements.event_id"
        ) }}
            as event_ids
    from over_shipped
    inner join stock_movements on over_shipped.order_line_id = stock_movements.order_line_id
    where stock_movements.event_type = 'shipped'
    group by over_shipped.order_line_id
),

order_exceptions as (
    select
        'shipped_above_ordered' as exception_type,
        over_shipped.sku,
        over_shipped.node_id,
        cast(null as {{ dbt.type_string() }}) as state,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        over_shipped.order_line_id,
        over_shipped.quantity,
        -- unknown cost: no value (null), never 0
        cast(
            case
                when skus.cost_basis = 'unknown' then null
                else over_shipped.quantity * skus.unit_cost
            end as decimal(18, 2)
        ) as value,
        over_shipped.opened_at,
        cast(null as timestamp) as resolved_at,
        over_shipped_events.event_ids,
        coalesce(over_shipped_events.event_count, 0) as event_count,
        over_shipped.order_line_id as key_suffix
    from over_shipped
    left join skus on over_shipped.sku = skus.sku
    left join over_shipped_events on over_shipped.order_line_id = over_shipped_events.order_line_id
),

refunds as (
    select
        order_line_id,
        sum(refund_amount) as refunded,
        count(*) as return_lines,
        max(refunded_at) as last_refunded_at
    from return_lines
    where refund_amount is not null
    group by order_line_id
),

over_refunded as (
    select
        refunds.order_line_id,
        order_lines.sku,
        refunds.refunded - coalesce(order_lines.net_revenue, 0) as excess,
        refunds.last_refunded_at as opened_at
    from refunds
    left join order_lines on refunds.order_line_id = order_lines.order_line_id
    where refunds.refunded > coalesce(order_lines.net_revenue, 0) + 0.01 * refunds.return_lines
),

refund_events as (
    select
        event_id,
        order_line_id
    from return_events
    where event_type = 'refund_issued'
    union all
    select
        event_id,
        order_line_id
    from ledger_events
    where event_type = 'refund_paid'
),

over_refunded_events as (
    select
        over_refunded.order_line_id,
        count(distinct refund_events.event_id) as event_count,
        {{ dbt.listagg(
            "distinct refund_events.event_id", "','", "order by refund_events.event_id"
        ) }}
            as event_ids
    from over_refunded
    inner join refund_events on over_refunded.order_line_id = refund_events.order_line_id
    group by over_refunded.order_line_id
),

refund_exceptions as (
    select
        'refund_above_paid' as exception_type,
        over_refunded.sku,
        cast(null as {{ dbt.type_string() }}) as node_id,
        cast(null as {{ dbt.type_string() }}) as state,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        over_refunded.order_line_id,
        cast(null as bigint) as quantity,
        cast(over_refunded.excess as decimal(18, 2)) as value,
        over_refunded.opened_at,
        cast(null as timestamp) as resolved_at,
        over_refunded_events.event_ids,
        coalesce(over_refunded_events.event_count, 0) as event_count,
        over_refunded.order_line_id as key_suffix
    from over_refunded
    left join over_refunded_events
        on over_refunded.order_line_id = over_refunded_events.order_line_id
),

unioned as (
    select * from stock_exceptions
    union all
    select * from return_exceptions
    union all
    select * from order_exceptions
    union all
    select * from refund_exceptions
),

final as (
    select
        {{ dbt.concat([
            "unioned.exception_type", "':'", "coalesce(unioned.sku, '')", "':'",
            "coalesce(unioned.node_id, '')", "':'", "coalesce(unioned.state, '')", "':'",
            "unioned.key_suffix"
        ]) }} as exception_id,
        unioned.exception_type,
        unioned.sku,
        unioned.node_id,
        unioned.state,
        unioned.return_line_id,
        unioned.order_line_id,
        cast(unioned.quantity as bigint) as quantity,
        unioned.value,
        unioned.opened_at,
        unioned.resolved_at,
        unioned.resolved_at is null as is_open,
        cast(
            {{ dbt.datediff(
                "cast(unioned.opened_at as date)",
                "coalesce(cast(unioned.resolved_at as date), as_of.as_of_date)",
                "day"
            ) }} as bigint
        ) as age_days,
        unioned.event_ids,
        cast(unioned.event_count as bigint) as event_count
    from unioned
    cross join as_of
)

select * from final
