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

{% macro weighted_average_cost_steps() -%}
    {{ default__weighted_average_cost_steps() }}
{%- endmacro %}

{% macro delete_rows_where(condition) -%}
    {{ default__delete_rows_where(condition) }}
{%- endmacro %}
