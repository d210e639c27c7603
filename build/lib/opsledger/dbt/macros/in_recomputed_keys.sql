{% macro in_recomputed_keys(key_column, keys_cte) -%}
{#- Filter of an incremental model's input to the keys this run recomputes
    (`keys_cte` holds them in `key_column`); true in a full build. Applied to
    every input before the joins: filtering the joined result instead, DuckDB
    built hash tables of every key's inputs first. -#}
    {%- if is_incremental() -%}
        {{ key_column }} in (select {{ keys_cte }}.{{ key_column }} from {{ keys_cte }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
