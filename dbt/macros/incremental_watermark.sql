{% macro incremental_watermark(column) -%}
{#- The latest load time an incremental model already reflects: the max of its
    own `column` (an ingested_at it carries), or a time before any load when
    the table is empty. Rows loaded after it are the run's new input. -#}
    (
        select coalesce(max(built.{{ column }}), cast('1900-01-01' as timestamp))
        from {{ this }} as built
    )
{%- endmacro %}
