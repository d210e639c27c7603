{#- Delete the rows of the model's table that meet `condition` (a post-hook).
    Dispatched: Parquet tables on Spark take no DELETE, so Spark keeps the other
    rows in a new table that then takes the model's name, as the project's
    Spark incremental strategies do (dbt/macros/spark_incremental_strategies.sql). -#}
{% macro delete_rows_where(condition) %}
    {{- return(adapter.dispatch('delete_rows_where')(condition)) -}}
{% endmacro %}


{% macro default__delete_rows_where(condition) %}
    delete from {{ this }} where {{ condition }}
{% endmacro %}


{% macro spark__delete_rows_where(condition) %}
    {%- set kept -%}
        select * from {{ this }} where not coalesce({{ condition }}, false)
    {%- endset -%}
    {{- opsledger_spark_replace(this, kept) -}}
{% endmacro %}
