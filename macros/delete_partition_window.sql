{% macro delete_partition_window(partition_column='partition_date') -%}
    {{ return(adapter.dispatch('delete_partition_window')(partition_column)) }}
{%- endmacro %}

{% macro default__delete_partition_window(partition_column) -%}
    {#-
        Pre-hook of the incremental models: empty the window before the build inserts
        it. delete+insert on partition_date alone deletes only the partitions the new
        build produces, so a day whose raw rows were withdrawn would keep its stale
        rows forever; with this hook a build replaces the whole window. It runs in
        the model's transaction, so readers never see the window empty.
        The transaction-level advisory lock serialises concurrent builds of the same
        model: two overlapping delete+insert transactions would otherwise both insert.
    -#}
    select pg_advisory_xact_lock(hashtext('{{ this }}'));
    {%- if is_incremental() %}
        delete from {{ this }}
        where {{ partition_filter(partition_column) }}
    {%- endif -%}
{%- endmacro %}


{% macro spark__delete_partition_window(partition_column) -%}
    {#-
        On Spark (parquet, insert_overwrite) the build overwrites the partitions it
        produces; dropping every partition of the window first gives the PostgreSQL
        semantics (a day whose raw rows vanished is emptied too). Not one transaction:
        a reader may see the window empty while the build runs, and the Dagster pool
        (not a lock) keeps two builds of one model apart.
    -#}
    {%- if is_incremental() -%}
        {%- set window = partition_window() -%}
        {%- if window.end is not none -%}
            {%- set first = parse_partition_date('partition_start', window.start) -%}
            {%- set specs = [] -%}
            {%- for offset in range(window.days) -%}
                {%- set day = first + modules.datetime.timedelta(days=offset) -%}
                {%- do specs.append(
                    'partition (' ~ partition_column ~ " = date'" ~ day.isoformat() ~ "')"
                ) -%}
            {%- endfor %}
        alter table {{ this }} drop if exists {{ specs | join(', ') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
