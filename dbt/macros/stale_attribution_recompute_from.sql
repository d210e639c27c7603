{% macro stale_attribution_recompute_from(watermark) -%}
{#- The first order time an incremental run of int_order_lines_stale_attributed
    recomputes (null when nothing changed). A line's attribution reads the
    movements into or out of `available` that had happened by its order time
    and were reported after it, and the stale node's reports in the 14 days
    before it; so a stock event written by this build (fct_stock_update_latency)
    changes the lines ordered from its event time or its report time, whichever
    is earlier, on, and a line whose available-to-sell this build rewrote
    (int_order_lines_availability_checked: new lines, late movements, a node or
    channel record, which rewrites every line) changes itself. Both read the
    rows this build wrote (`_build_id`), not a watermark: rows of this model are
    only the attributed lines, so its own latest load time would stand still
    while stock events arrive. -#}
    (
        select min(from_time)
        from (
            select
                min(
                    case
                        when latency.reported_at < latency.event_time then latency.reported_at
                        else latency.event_time
                    end
                ) as from_time
            from {{ ref('fct_stock_update_latency') }} as latency
            where latency._build_id = {{ build_id() }}

            union all

            select min(availability.ordered_at) as from_time
            from {{ ref('int_order_lines_availability_checked') }} as availability
            where availability._build_id = {{ build_id() }}
        ) as changes
    )
{%- endmacro %}
