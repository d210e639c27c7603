{#- dbt.datediff on Spark, for hours and minutes: the number of boundaries
    crossed, as on DuckDB (date_diff) and in dbt's own definition. dbt-spark's
    rounds the elapsed time up instead (21:10:31 to 23:11:37 is 122 minutes
    there, 121 here), so the same staleness would differ between engines.
    Other parts are dbt-spark's: seconds and days already count boundaries.
    The root project's spark__datediff takes precedence over dbt-spark's in
    dbt.datediff's dispatch; DuckDB never calls it. -#}
{% macro spark__datediff(first_date, second_date, datepart) %}
    {%- set seconds = {'hour': 3600, 'minute': 60} -%}
    {%- if datepart in seconds -%}
        (
            floor(to_unix_timestamp(cast({{ second_date }} as timestamp)) / {{ seconds[datepart] }})
            - floor(to_unix_timestamp(cast({{ first_date }} as timestamp)) / {{ seconds[datepart] }})
        )
    {%- else -%}
        {{ return(dbt.spark__datediff(first_date, second_date, datepart)) }}
    {%- endif -%}
{% endmacro %}
