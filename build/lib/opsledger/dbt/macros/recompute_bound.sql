{% macro recompute_bound(bound_sql) -%}
{#- The first time an incremental model of strategy `recompute` recomputes:
    `bound_sql`, its recompute_from macro applied to its watermark. When a
    model runs it is queried and written in as a literal (null when nothing
    changed, which filters every row out), so the filters on it reach the
    scans (as a scalar subquery they did not, and DuckDB planned the whole
    history before filtering it). Each call queries: set it once per model. -#}
    {%- if execute and model.resource_type == 'model' -%}
        {%- set bound = run_query('select ' ~ bound_sql).columns[0].values()[0] -%}
        {%- if bound is none -%}
            cast(null as timestamp)
        {%- else -%}
            cast('{{ bound }}' as timestamp)
        {%- endif -%}
    {%- else -%}
        {{ bound_sql }}
    {%- endif -%}
{%- endmacro %}
