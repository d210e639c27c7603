{#- dbt.listagg on Spark. dbt-spark's own ignores the order (a warning, then
    values in whatever order the shuffle left them), so the same lists would
    differ between engines. The project aggregates lists ordered by their own
    values (`distinct x` ordered by x): Spark sorts the collected values,
    which is that order. Any other order is a compile error, not a silent
    difference. The root project's spark__listagg takes precedence over
    dbt-spark's in dbt.listagg's dispatch; DuckDB never calls it. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) %}
    {%- set measure = measure | trim -%}
    {%- set is_distinct = measure.lower().startswith('distinct ') -%}
    {%- set value = (measure[9:] if is_distinct else measure) | trim -%}
    {%- if order_by_clause and (order_by_clause | trim | lower) != ('order by ' ~ value | lower) -%}
        {{ exceptions.raise_compiler_error(
            "listagg on Spark orders by the aggregated value only, not: " ~ order_by_clause
        ) }}
    {%- endif -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg on Spark takes no limit") }}
    {%- endif -%}
    array_join(
        array_sort({{ 'collect_set' if is_distinct else 'collect_list' }}({{ value }})),
        {{ delimiter_text }}
    )
{% endmacro %}
