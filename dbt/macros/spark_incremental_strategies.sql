{#- Incremental strategies on Spark (dbt-spark) for Parquet tables, which take no
    DELETE or MERGE (those need Delta, Iceberg or Hudi). dbt-spark's incremental
    materialization accepts only append, insert_overwrite, merge and microbatch;
    these two macros (dbt-spark's own, not dispatched: a root project's macro of the
    same name takes precedence) add the project's strategies, with the semantics
    they have on DuckDB:

    - delete+insert (unique_key): the rows of the run replace every row with the
      same key;
    - recompute (dbt/macros/recompute_incremental_strategy.sql): the run's rows
      replace every row at or after the model's recompute bound.

    Both rebuild the table as the kept rows union all the run's rows, into a new
    table that then takes the model's name (Spark cannot overwrite a Parquet table
    it reads in the same statement). DuckDB never calls these macros. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy in ['delete+insert', 'recompute'] -%}
        {% do return(raw_strategy) %}
    {%- endif -%}
    {% do return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) %}
{% endmacro %}


{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy == 'delete+insert' -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        {%- set kept -%}
            select kept.*
            from {{ target }} as kept
            left anti join {{ source }} as replacing
                on {% for key in keys %}kept.{{ key }} = replacing.{{ key }}{{ " and " if not loop.last }}{% endfor %}
        {%- endset -%}
        {{ return(opsledger_spark_rebuild(target, source, kept)) }}
    {%- elif strategy == 'recompute' -%}
        {#- the bound is computed before the rebuild, from the table as it stands
            (its watermark), as the DuckDB strategy's delete sees it -#}
        {%- set bound = recompute_bound(
            context[config.require('recompute_from')](incremental_watermark('ingested_at'))
        ) -%}
        {%- set kept -%}
            select kept.*
            from {{ target }} as kept
            where not coalesce(kept.{{ config.require('recompute_column') }} >= {{ bound }}, false)
        {%- endset -%}
        {{ return(opsledger_spark_rebuild(target, source, kept)) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates)) }}
{% endmacro %}


{% macro opsledger_spark_rebuild(target, source, kept_sql) %}
{#- The kept rows union all the run's rows, in the target's column order, replace
    the target (opsledger_spark_replace). -#}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | join(', ') -%}
    {%- set rebuilt -%}
        select {{ columns }} from ({{ kept_sql }}) as kept_rows
        union all select {{ columns }} from {{ source }}
    {%- endset -%}
    {{ return(opsledger_spark_replace(target, rebuilt)) }}
{% endmacro %}


{% macro opsledger_spark_replace(target, select_sql) %}
{#- Runs the replacement's first statements and returns its last (the caller runs
    it: the materialization as its main statement, a hook as the hook): a new table
    of `select_sql`'s rows, then the old table dropped and the new renamed. -#}
    {%- set rebuilt = target.incorporate(path={"identifier": target.identifier ~ '__dbt_rebuilt'}) -%}
    {%- if execute -%}
        {%- do run_query('drop table if exists ' ~ rebuilt) -%}
        {%- do run_query(
            'create table ' ~ rebuilt ~ ' using ' ~ config.get('file_format', 'parquet')
            ~ ' as ' ~ select_sql
        ) -%}
        {%- do run_query('drop table ' ~ target) -%}
    {%- endif -%}
    alter table {{ rebuilt }} rename to {{ target }}
{% endmacro %}
