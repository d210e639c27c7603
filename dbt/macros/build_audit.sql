{#- Which build wrote a row, and what a build's data tests read (issue 21).

    Every incremental table carries `_build_id`, the id of the build that wrote
    the row (`build_id()`: the refresh's build id, from OPSLEDGER_BUILD_ID, else
    dbt's invocation_id for a plain dbt run). A per-build audit
    (OPSLEDGER_AUDIT=build, what a continued refresh runs) checks what the build
    wrote: the generic tests of an incremental model read its rows of this build
    (get_where_subquery below), key tests the keys this build wrote against the
    whole table, and the singular invariants the SKUs, journals and days this
    build touched (audit_rows, audit_keys). A full audit (OPSLEDGER_AUDIT unset
    or full: a plain dbt run, every full refresh, `--full-audit`) checks every
    row.

    Both are environment variables read only while executing: a dbt var, or an
    env_var() rendered at parse time, is part of what partial parsing compares,
    and a new build id on every build would re-parse the whole project (~8 s). -#}

{% macro build_id() -%}
    {%- if execute -%}
        '{{ env_var("OPSLEDGER_BUILD_ID", invocation_id) }}'
    {%- else -%}
        'parsing'
    {%- endif -%}
{%- endmacro %}


{% macro audit_is_per_build() -%}
    {%- do return(execute and env_var("OPSLEDGER_AUDIT", "full") == "build") -%}
{%- endmacro %}


{#- A filter on the rows this build wrote (column `_build_id` of `alias`, or
    unqualified); true in a full audit. -#}
{% macro audit_rows(alias=none) -%}
    {%- if audit_is_per_build() -%}
        {{ alias ~ '.' if alias }}_build_id = {{ build_id() }}
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}


{#- A filter on the rows whose `column` (a SKU, a journal) is one this build
    wrote a row of in `relation`: a history-spanning invariant checked for what
    the build touched. true in a full audit. -#}
{% macro audit_keys(column, relation, alias=none) -%}
    {%- if audit_is_per_build() -%}
        {{ alias ~ '.' if alias }}{{ column }} in (
            select touched.{{ column }}
            from {{ relation }} as touched
            where touched._build_id = {{ build_id() }}
        )
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}


{#- The relation a generic test reads (dbt wraps every generic test's `model`
    argument in get_where_subquery). On top of dbt's own `where` config: in a
    per-build audit, a test of an incremental model reads the rows this build
    wrote; a key test (unique, primary_key) reads every row whose key this build
    wrote (a semi-join on the build's keys), so a new row that repeats a key of
    an older row fails, and no test groups every key of the table. A view that
    an incremental model reads from a recompute bound on (meta `audited_as_read`:
    `by` the model, the view's `column`, the model's `from` column) is read from
    the first day that model wrote in this build: the rows the build used. Other
    models (rebuilt whole by every build) are read whole. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = none -%}
    {%- if audit_is_per_build() and model.attached_node -%}
        {%- set tested = graph.nodes.get(model.attached_node) -%}
        {%- if tested and tested.config.materialized == 'incremental'
            and tested.alias == relation.identifier -%}
            {%- set test = model.test_metadata -%}
            {%- set keys = [] -%}
            {%- if test.name == 'unique' -%}
                {%- do keys.append(test.kwargs.column_name) -%}
            {%- elif test.name == 'primary_key' -%}
                {%- do keys.extend(test.kwargs.columns) -%}
            {%- endif -%}
            {%- if keys -%}
                {#- the build's rows (a null key among them too), and the older
                    rows of the keys it wrote: a row-value IN, which DuckDB runs
                    as a hash semi-join and skips when the build wrote nothing
                    (a correlated exists read every row) -#}
                {%- set key_list = '(' ~ keys | join(', ') ~ ')' -%}
                {%- set scoped -%}
                    (select * from {{ relation }} as audited
                    where audited._build_id = {{ build_id() }}
                    union all
                    select * from {{ relation }} as audited
                    where audited._build_id <> {{ build_id() }}
                        and {{ key_list }} in (
                            select {{ keys | join(', ') }}
                            from {{ relation }}
                            where _build_id = {{ build_id() }}
                        ))
                {%- endset -%}
                {%- set scope = 'keys' -%}
            {%- else -%}
                {%- set scope = 'audited._build_id = ' ~ build_id() -%}
            {%- endif -%}
        {%- elif tested and tested.config.meta.get('audited_as_read')
            and tested.alias == relation.identifier -%}
            {%- set read = tested.config.meta['audited_as_read'] -%}
            {%- set reader = graph.nodes['model.' ~ project_name ~ '.' ~ read['by']] -%}
            {%- set written = api.Relation.create(
                database=reader.database, schema=reader.schema, identifier=reader.alias
            ) -%}
            {#- a literal, so the bound reaches the view's scans -#}
            {%- set first = run_query(
                'select cast(min(' ~ read['from'] ~ ') as date) from ' ~ written
                ~ ' where _build_id = ' ~ build_id()
            ).columns[0].values()[0] -%}
            {%- if first is none -%}
                {%- set scope = '(1 = 0)' -%}
            {%- else -%}
                {%- set scope = 'audited.' ~ read['column'] ~ " >= cast('" ~ first ~ "' as date)" -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if scope is none and not where -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set filtered -%}
        {%- if scope == 'keys' -%}
            (select * from {{ scoped }} as audited
            {%- if where %} where ({{ where }}){% endif %}) as dbt_subquery
        {%- else -%}
            (select * from {{ relation }} as audited
            where {{ scope if scope is not none else '(1 = 1)' }}
                {%- if where %} and ({{ where }}){% endif %}) as dbt_subquery
        {%- endif -%}
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}


{#- `alias.column, ...` for every column of `relation` but `except`: a model that
    reads an incremental model's rows whole (`alias.*`) and writes its own
    `_build_id`. Listed from the catalog when the model runs (its upstream is built
    by then); `alias.*` while parsing, and in a unit test (its fixture is a CTE;
    the output columns a unit test compares are named). -#}
{% macro star_except(relation, except, alias) -%}
    {%- if execute and model.resource_type == 'model' -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower not in except -%}
                {%- do names.append(alias ~ '.' ~ adapter.quote(column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not names -%}
            {{ exceptions.raise_compiler_error('star_except: ' ~ relation ~ ' has no columns') }}
        {%- endif -%}
        {{ names | join(', ') }}
    {%- else -%}
        {{ alias }}.*
    {%- endif -%}
{%- endmacro %}


{#- A filter on the days from the first day this build wrote a row of, in any
    of `sources` ((relation, date column) pairs): a running balance changes from
    that day on. true in a full audit; false when the build wrote nothing. -#}
{% macro audit_days_from(column, sources) -%}
    {%- if audit_is_per_build() -%}
        {{ column }} >= (
            select min(first_day) from (
                {%- for relation, day in sources %}
                    select min({{ day }}) as first_day
                    from {{ relation }}
                    where _build_id = {{ build_id() }}
                    {%- if not loop.last %} union all{% endif %}
                {%- endfor %}
            ) as written
        )
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}
