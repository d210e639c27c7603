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
    {#- the fold's lambdas are beyond sqlfluff's DuckDB parser (macros/ is not linted) -#}
    averages as (
        select
            sku,
            step,
            unit_cost as wac_after,
            unit_cost as entry_unit_cost
        from resumed
        where kind = 'w'
    )
{%- endmacro %}

{% macro delete_rows_where(condition) -%}
    {{ default__delete_rows_where(condition) }}
{%- endmacro %}

{% macro wac_resumes_from_built() -%}
    {{- return(true) -}}
{%- endmacro %}
