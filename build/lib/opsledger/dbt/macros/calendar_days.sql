{#- One row per day (date_day) from first_date to last_date inclusive, for a
    relation (or CTE) `bounds` with one row and columns first_date, last_date.
    Plain portable SQL (no generate_series): up to 100,000 days. -#}
{% macro calendar_days(bounds) -%}
    select
        cast({{ dbt.dateadd('day', 'calendar_numbers.n', 'calendar_bounds.first_date') }} as date)
            as date_day
    from (
        select d0.d + 10 * d1.d + 100 * d2.d + 1000 * d3.d + 10000 * d4.d as n
        from
            {% for i in range(5) -%}
                (
                    select 0 as d union all select 1 union all select 2 union all select 3
                    union all select 4 union all select 5 union all select 6
                    union all select 7 union all select 8 union all select 9
                ) as d{{ i }}{{ "\n            cross join" if not loop.last }}
            {% endfor %}
    ) as calendar_numbers
    cross join {{ bounds }} as calendar_bounds
    where
        calendar_numbers.n
        <= {{ dbt.datediff('calendar_bounds.first_date', 'calendar_bounds.last_date', 'day') }}
{%- endmacro %}
