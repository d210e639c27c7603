{#- Raw event times are zone-aware; the warehouse works in naive UTC
    timestamps, which every engine (DuckDB, Spark) handles the same way. -#}
{% macro utc_timestamp(column) -%}
    {{ return(adapter.dispatch('utc_timestamp')(column)) }}
{%- endmacro %}

{% macro default__utc_timestamp(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}

{% macro duckdb__utc_timestamp(column) -%}
    timezone('UTC', {{ column }})
{%- endmacro %}
