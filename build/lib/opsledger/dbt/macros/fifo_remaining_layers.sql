{#- FIFO layers still on hand: exits consume the oldest entries first, so the
    units on hand are the newest entries, taken newest first until they cover
    the on-hand quantity (the oldest of them only partly). Plain, portable SQL.

    entries:      relation with the partition columns, entry_id, entered_at,
                  entry_qty (> 0)
    on_hand:      relation with the partition columns and on_hand_qty (> 0)
    partition_by: list of partition column names
    Returns the partition columns, entry_id, entered_at, remaining_qty. -#}
{% macro fifo_remaining_layers(entries, on_hand, partition_by) -%}
    select
        {% for col in partition_by %}{{ col }}, {% endfor %}
        entry_id,
        entered_at,
        case
            when newer_qty_incl <= on_hand_qty then entry_qty
            else on_hand_qty - (newer_qty_incl - entry_qty)
        end as remaining_qty
    from (
        select
            {% for col in partition_by %}fifo_entries.{{ col }}, {% endfor %}
            fifo_entries.entry_id,
            fifo_entries.entered_at,
            fifo_entries.entry_qty,
            fifo_on_hand.on_hand_qty,
            sum(fifo_entries.entry_qty) over (
                partition by {% for col in partition_by %}fifo_entries.{{ col }}{{ ", " if not loop.last }}{% endfor %}
                order by fifo_entries.entered_at desc, fifo_entries.entry_id desc
                rows between unbounded preceding and current row
            ) as newer_qty_incl
        from {{ entries }} as fifo_entries
        inner join {{ on_hand }} as fifo_on_hand
            on
                {% for col in partition_by -%}
                fifo_entries.{{ col }} = fifo_on_hand.{{ col }}{{ " and " if not loop.last }}
                {%- endfor %}
    ) as fifo_ranked
    where newer_qty_incl - entry_qty < on_hand_qty
{%- endmacro %}
