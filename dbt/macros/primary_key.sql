{#- Generic test: `columns` are the model's primary key (its grain): no key column
    is null and no two rows share the key. A model-level test because most marts'
    keys span several columns (sku x node x state, day x channel x category, ...);
    `columns: []` is the key of a one-row model: at most one row.

    Failing rows: each duplicated key with its row count, then each row with a
    null key column (row_count null). Stored in schema audit (store_failures), as
    the singular invariants are: select * from audit.<test name>.

    dbt-project-evaluator counts it as a primary-key test (its var
    primary_key_test_macros lists opsledger.test_primary_key, dbt/dbt_project.yml):
    it checks exactly what unique + not_null check on a one-column key. -#}
{% test primary_key(model, columns) %}
    {{ config(store_failures=true) }}
    {%- if columns | length == 0 %}
        select count(*) as row_count
        from {{ model }}
        having count(*) > 1
    {%- else %}
        select
            {{ columns | join(', ') }},
            count(*) as row_count
        from {{ model }}
        group by {{ columns | join(', ') }}
        having count(*) > 1

        union all

        select
            {{ columns | join(', ') }},
            null as row_count
        from {{ model }}
        where
            {% for column in columns -%}
                {{ column }} is null{% if not loop.last %} or {% endif %}
            {% endfor %}
    {%- endif %}
{% endtest %}
