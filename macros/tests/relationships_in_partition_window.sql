{% test relationships_in_partition_window(
    model, column_name, to, field, partition_column='partition_date'
) %}
    {#-
        Referential integrity inside the partition window: every non-null key of `model`
        in the window has at least one row in `to` with the same key AND the same
        partition. Both sides are filtered to the window, so the test reads the
        partition, not the history (dbt's built-in `relationships` scans all of `to`).
        One failing row per orphan key.
    -#}
    with child as (
        select distinct
            {{ partition_column }} as partition_key,
            {{ column_name }} as child_key
        from {{ model }}
        where
            {{ partition_filter(partition_column) }}
            and {{ column_name }} is not null
    ),

    parent as (
        select distinct
            {{ partition_column }} as partition_key,
            {{ field }} as parent_key
        from {{ to }}
        where {{ partition_filter(partition_column) }}
    )

    select
        child.partition_key,
        child.child_key as orphan_key
    from child
    left join parent
        on
            child.partition_key = parent.partition_key
            and child.child_key = parent.parent_key
    where parent.parent_key is null
{% endtest %}
