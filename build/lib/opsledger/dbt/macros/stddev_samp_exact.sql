{% macro stddev_samp_exact(column, divisor=1) -%}
{#- Sample standard deviation of an integer column, from exact integer sums,
    divided by divisor. stddev_samp over doubles depends on the order a
    parallel aggregation adds in, so two builds on the same events could
    differ in the last digits; this does not (incremental = full refresh). -#}
    case
        when count({{ column }}) > 1
            then sqrt(
                cast(
                    count({{ column }}) * sum({{ column }} * {{ column }})
                    - sum({{ column }}) * sum({{ column }})
                    as double
                )
                / (count({{ column }}) * (count({{ column }}) - 1.0))
            ) / {{ divisor }}
    end
{%- endmacro %}
