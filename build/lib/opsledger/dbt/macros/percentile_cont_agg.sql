{#- Continuous percentile aggregate (fraction in 0..1) of an expression over a
    group: exact on DuckDB (quantile_cont) and Spark (percentile), the ANSI
    ordered-set form elsewhere. -#}
{% macro percentile_cont_agg(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont_agg')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont_agg(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont_agg(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont_agg(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}
