{#- kpi_daily rows of one KPI from a relation of observations: one union-all
    branch for the total (dimension 'all', dimension_value 'all') and one per
    breakdown dimension, grouped by the date column and the dimension's column
    (the relation must have a column named like the dimension: channel, node,
    category, supplier; null values become 'unknown').

    numerator / denominator / value are aggregate SQL expressions. value
    defaults to numerator / denominator (null when the denominator is 0), or
    to the numerator when there is no denominator. aggregation says how the app
    may re-aggregate over days: ratio (sum numerator / sum denominator), sum
    (add values), snapshot (point in time: do not add over days) or statistic
    (a median, percentile or stdev of the day: not re-aggregable; denominator
    = observations). include_total=false leaves out the 'all' branch. -#}
{% macro kpi_rollup(relation, kpi, dimensions, date_column, numerator, denominator=none, value=none, aggregation='ratio', include_total=true) -%}
    {%- set float_type = 'double' -%}
    {%- if value is none -%}
        {%- if denominator is none -%}
            {%- set value = numerator -%}
        {%- else -%}
            {%- set value = "cast(" ~ numerator ~ " as " ~ float_type ~ ") / nullif(cast("
                ~ denominator ~ " as " ~ float_type ~ "), 0)" -%}
        {%- endif -%}
    {%- endif -%}
    {%- for dim in (['all'] if include_total else []) + dimensions %}
        select
            cast({{ date_column }} as date) as date,
            '{{ kpi }}' as kpi,
            '{{ aggregation }}' as aggregation,
            '{{ dim }}' as dimension,
            {% if dim == 'all' -%}
                'all'
            {%- else -%}
                coalesce(cast({{ dim }} as {{ dbt.type_string() }}), 'unknown')
            {%- endif %} as dimension_value,
            cast({{ value }} as {{ float_type }}) as value,
            cast({{ numerator if numerator is not none else 'null' }} as {{ float_type }}) as numerator,
            cast({{ denominator if denominator is not none else 'null' }} as {{ float_type }})
                as denominator
        from {{ relation }}
        group by
            cast({{ date_column }} as date){% if dim != 'all' %},
            coalesce(cast({{ dim }} as {{ dbt.type_string() }}), 'unknown'){% endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
