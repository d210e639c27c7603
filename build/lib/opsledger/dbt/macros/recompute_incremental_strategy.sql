{% macro get_incremental_recompute_sql(arg_dict) -%}
{#- Incremental strategy `recompute`, for models whose rows cannot be matched
    one by one (a recomputed journal may vanish or renumber its lines): delete
    every row at or after the model's recompute bound, then insert the run's
    rows, which the model computed from the same bound. Config:
    recompute_column (the row's time) and recompute_from (the name of a macro
    that takes the model's watermark and gives the bound, null when nothing
    changed). The watermark (the latest ingested_at the model holds) is still
    unchanged when the delete runs, so both see the same bound. -#}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where
        {{ config.require('recompute_column') }}
        >= {{ recompute_bound(
            context[config.require('recompute_from')](incremental_watermark('ingested_at'))
        ) }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
