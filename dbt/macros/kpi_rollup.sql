{#- kpi_daily rows of one KPI from a relation of observations: the total
    (dimension 'all', dimension_value 'all') and one breakdown per dimension,
    each grouped by the date column and the dimension's column (the relation
    must have a column named like the dimension: channel, node, category,
    supplier; null values become 'unknown'). One aggregation over grouping
    sets, so the observations are read once for every breakdown.

    numerator / denominator / value are aggregate SQL expressions. value
    defaults to numerator / denominator (null when the denominator is 0), or
    to the numerator when there is no denominator. aggregation says how the app
    may re-aggregate over days: ratio (sum numerator / sum denominator), sum
    (add values), snapshot (point in time: do not add over days) or statistic
    (a median, percentile or stdev of the day: not re-aggregable; denominator
    = observations). include_total=false leaves out the 'all' breakdown. -#}
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
    {%- set sets = (['(kpi_rollup_date)'] if include_total else []) -%}
    {%- for dim in dimensions -%}
        {%- do sets.append('(kpi_rollup_date, kpi_rollup_' ~ dim ~ ')') -%}
    {%- endfor %}
        select
            kpi_rollup_date as date,
            '{{ kpi }}' as kpi,
            '{{ aggregation }}' as aggregation,
            {% if dimensions -%}
            case
                {%- for dim in dimensions %}
                when grouping(kpi_rollup_{{ dim }}) = 0 then '{{ dim }}'
                {%- endfor %}
                else 'all'
            end as dimension,
            case
                {%- for dim in dimensions %}
                when grouping(kpi_rollup_{{ dim }}) = 0 then kpi_rollup_{{ dim }}
                {%- endfor %}
                else 'all'
            end as dimension_value,
            {%- else -%}
            'all' as dimension,
            'all' as dimension_value,
            {%- endif %}
            cast({{ value }} as {{ float_type }}) as value,
            cast({{ numerator if numerator is not none else 'null' }} as {{ float_type }}) as numerator,
            cast({{ denominator if denominator is not none else 'null' }} as {{ float_type }})
                as denominator
        from (
            select
                observations.*,
                {%- for dim in dimensions %}
                coalesce(cast(observations.{{ dim }} as {{ dbt.type_string() }}), 'unknown')
                    as kpi_rollup_{{ dim }},
                {%- endfor %}
                cast(observations.{{ date_column }} as date) as kpi_rollup_date
            from {{ relation }} as observations
        ) as observed
        group by grouping sets ({{ sets | join(', ') }})
{%- endmacro %}
