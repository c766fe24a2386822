{% macro delete_partition_window(partition_column='partition_date') -%}
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
