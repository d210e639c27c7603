{#- Lint-only stand-ins for dispatched macros: sqlfluff's jinja templater has
    no dbt adapter, so it renders the default implementation. Not loaded by dbt. -#}
{% macro utc_timestamp(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}

{% macro percentile_cont_agg(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro clock_now() -%}
    cast(current_timestamp as timestamp)
{%- endmacro %}
