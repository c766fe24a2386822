{% test unique_in_partition_window(
    model, column_name=none, columns=none, partition_column='partition_date'
) %}
    {#-
        Fails with one row per key that occurs more than once inside the partition
        window. Give `column_name` (a column test) or `columns` (a model test over a
        combination of columns, e.g. the grain of a mart).
    -#}
    {%- set key_columns = columns if columns else [column_name] -%}
    {%- if key_columns | select('none') | list | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            'unique_in_partition_window needs column_name or columns'
        ) }}
    {%- endif -%}

    with scoped as (
        select {{ key_columns | join(', ') }}
        from {{ model }}
        where {{ partition_filter(partition_column) }}
    )

    select
        {{ key_columns | join(', ') }},
        count(*) as n_rows
    from scoped
    group by {{ key_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
