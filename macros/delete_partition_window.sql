{% macro delete_partition_window(partition_column='partition_date') -%}
    {#-
        Pre-hook of the incremental models: empty the window before the build inserts
        it. delete+insert on partition_date alone deletes only the partitions the new
        build produces, so a day whose raw rows were withdrawn would keep its stale
        rows forever; with this hook a build replaces the whole window. It runs in
        the model's transaction, so readers never see the window empty.
    -#}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ partition_filter(partition_column) }}
    {%- endif -%}
{%- endmacro %}
