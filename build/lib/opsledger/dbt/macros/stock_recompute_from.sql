{% macro stock_recompute_from(upstream, with_master=false) -%}
{#- The SKUs an incremental run of a stock-ledger model recomputes, each from
    the event_time of its earliest movement in `upstream` that was loaded
    after this model's own watermark (the latest ingested_at it holds): a
    movement changes its SKU's sequence, legs and average cost from its time
    on and nothing before. with_master (the valuing models): a SKU whose
    master record (the starting and fallback cost) was loaded since is
    recomputed whole, and a SKU with a return whose return_requested (it
    names the order line whose shipments give the return its cost) was loaded
    since from that return's time. The
    watermark is the model's own, so a model never misses what an earlier
    failed build of it left out. -#}
    {%- set watermark = incremental_watermark('ingested_at') %}
    select
        sku,
        min(from_time) as from_time
    from (
        select
            upstream.sku,
            min(upstream.event_time) as from_time
        from {{ upstream }} as upstream
        where upstream.ingested_at > {{ watermark }}
        group by upstream.sku
        {%- if with_master %}

        union all

        select
            products.sku,
            cast('1900-01-01' as timestamp) as from_time
        from {{ ref('stg_master__products') }} as products
        where products.ingested_at > {{ watermark }}

        union all

        select
            returned.sku,
            min(returned.event_time) as from_time
        from {{ upstream }} as returned
        where returned.return_line_id in (
            select requests.return_line_id
            from {{ ref('stg_returns__return_events') }} as requests
            where
                requests.event_type = 'return_requested'
                and requests.ingested_at > {{ watermark }}
        )
        group by returned.sku
        {%- endif %}
    ) as arrivals
    group by sku
{%- endmacro %}


{% macro stock_recompute_rows(relation, with_master=false) -%}
{#- The rows of `relation` (one per movement, with sku and event_time) that
    this run computes: all of them in a full build, in an incremental run
    those of the SKUs stock_recompute_from names, from their time on. -#}
    {%- if is_incremental() %}
        select rows.*
        from ({{ stock_recompute_from(relation, with_master) }}) as recompute
        inner join {{ relation }} as rows
            on
                recompute.sku = rows.sku
                and rows.event_time >= recompute.from_time
    {%- else %}
        select * from {{ relation }}
    {%- endif %}
{%- endmacro %}
