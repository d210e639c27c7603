{#- Keep the latest row per key (latest event_time, then event_id), the
    rule for master data upserts. Portable: no QUALIFY. -#}
{% macro latest_per_key(relation, key, order_by='event_time desc, event_id desc') -%}
    select *
    from (
        select
            *,
            row_number() over (partition by {{ key }} order by {{ order_by }}) as row_rank
        from {{ relation }}
    ) as ranked
    where row_rank = 1
{%- endmacro %}
