{#- The current time (naive UTC) that staleness is judged against: var
    `clock` or the OPSLEDGER_CLOCK environment variable (ISO timestamp, UTC)
    when set, so a build can be pinned to a fixed clock (tests), else the
    build's current time. -#}
{% macro clock_now() -%}
    {%- set fixed = var('clock', env_var('OPSLEDGER_CLOCK', '')) -%}
    {%- if fixed -%}
        cast('{{ fixed }}' as timestamp)
    {%- else -%}
        {{ utc_timestamp(dbt.current_timestamp()) }}
    {%- endif -%}
{%- endmacro %}
