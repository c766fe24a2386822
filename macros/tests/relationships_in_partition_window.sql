{% test relationships_in_partition_window(
    model, column_name, to, field, partition_column='partition_date'
) %}
    {#-
        Referential integrity inside the partition window: every non-null key of `model`
        in the window has at least one row in `to` with the same key AND the same
        partition. Both sides are filtered to the window, so the test reads the
        partition, not the history (dbt's built-in `relationships` scans all of `to`).
        One failing row per orphan row.
    -#}
    select
        child.{{ partition_column }} as partition_key,
        child.{{ column_name }} as orphan_key
    from {{ model }} as child
    where
        {{ partition_filter('child.' ~ partition_column) }}
        and child.{{ column_name }} is not null
        and not exists (
            select 1
            from {{ to }} as parent
            where
                {{ partition_filter('parent.' ~ partition_column) }}
                and parent.{{ partition_column }} = child.{{ partition_column }}
                and parent.{{ field }} = child.{{ column_name }}
        )
{% endtest %}
