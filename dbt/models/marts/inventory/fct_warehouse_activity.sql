{{
    config(
        materialized='incremental',
        unique_key='activity_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- One row per warehouse activity event (public): supplier receipts,
    picks, shipments to customers and return inspections, with the node that
    did the work, the SKU, the units and the order line's channel where there
    is one. The fact of the warehouse productivity KPIs (models/kpis.yml).

    Incremental: an activity is an event, so a row changes only when its
    event does or its order line arrives: the run rebuilds the activities of
    the movements this build wrote in fct_stock_movements (`_build_id`), of
    picks and inspections loaded after the watermark (the latest ingested_at
    built: of the event or of its order line, whichever loaded later), and
    of every activity whose order line was loaded since (its channel). -#}
with

{% if is_incremental() %}
    {%- set watermark = incremental_watermark('ingested_at') %}
    new_lines as (
        select new_order_lines.order_line_id
        from {{ ref('stg_orders__order_lines') }} as new_order_lines
        where new_order_lines.ingested_at > {{ watermark }}
    ),
{% endif %}

movements as (
    select * from {{ ref('fct_stock_movements') }}
    {% if is_incremental() -%}
        where
            _build_id = {{ build_id() }}
            or order_line_id in (select new_lines.order_line_id from new_lines)
    {%- endif %}
),

picks as (
    select * from {{ ref('stg_stock__picks') }}
    {% if is_incremental() -%}
        where
            ingested_at > {{ watermark }}
            or order_line_id in (select new_lines.order_line_id from new_lines)
    {%- endif %}
),

return_events as (
    select * from {{ ref('stg_returns__return_events') }}
    where
        event_type = 'return_inspected'
        {% if is_incremental() -%}
            and (
                ingested_at > {{ watermark }}
                or order_line_id in (select new_lines.order_line_id from new_lines)
            )
        {%- endif %}
),

order_lines as (
    select * from {{ ref('stg_orders__order_lines') }}
),

receipts as (
    select
        movement_id as activity_id,
        event_id,
        'received' as activity,
        event_time,
        to_node as node_id,
        sku,
        quantity,
        order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        po_id,
        batch_id,
        ingested_at
    from movements
    where event_type = 'po_receipt'
),

shipments as (
    select
        movement_id as activity_id,
        event_id,
        'shipped' as activity,
        event_time,
        from_node as node_id,
        sku,
        quantity,
        order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        po_id,
        batch_id,
        ingested_at
    from movements
    where event_type = 'shipped' and to_state = 'customer'
),

picked as (
    select
        pick_id as activity_id,
        pick_id as event_id,
        'picked' as activity,
        picked_at as event_time,
        node_id,
        sku,
        qty_picked as quantity,
        order_line_id,
        cast(null as {{ dbt.type_string() }}) as return_line_id,
        cast(null as {{ dbt.type_string() }}) as po_id,
        batch_id,
        ingested_at
    from picks
),

inspected as (
    select
        event_id as activity_id,
        event_id,
        'inspected' as activity,
        event_time,
        node_id,
        sku,
        quantity,
        order_line_id,
        return_line_id,
        cast(null as {{ dbt.type_string() }}) as po_id,
        batch_id,
        ingested_at
    from return_events
),

activity as (
    select * from receipts
    union all
    select * from shipments
    union all
    select * from picked
    union all
    select * from inspected
)

select
    activity.activity_id,
    activity.event_id,
    activity.activity,
    activity.event_time,
    activity.node_id,
    activity.sku,
    order_lines.channel,
    cast(activity.quantity as {{ dbt.type_bigint() }}) as quantity,
    activity.order_line_id,
    activity.return_line_id,
    activity.po_id,
    activity.batch_id,
    case
        when order_lines.ingested_at > activity.ingested_at then order_lines.ingested_at
        else activity.ingested_at
    end as ingested_at,
    {{ build_id() }} as _build_id
from activity
left join order_lines on activity.order_line_id = order_lines.order_line_id
