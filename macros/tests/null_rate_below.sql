{% test null_rate_below(model, column_name, threshold, partition_column='partition_date') %}
    {#-
        The share of nulls in `column_name` over the partition window must not exceed
        `threshold` (0..1). Returns one row (the counts and the rate) when it does; an
        empty window passes. Use severity warn for columns that may legitimately be
        sparse, such as assignee_id.
    -#}
    {%- if threshold is none or threshold < 0 or threshold > 1 -%}
        {{ exceptions.raise_compiler_error(
            'null_rate_below: threshold must be between 0 and 1, got ' ~ threshold
        ) }}
    {%- endif -%}

    select
        count(*) as total_rows,
        count(*) - count({{ column_name }}) as null_rows,
        round(
            {{ engine_cast('(count(*) - count(' ~ column_name ~ '))', 'numeric') }}
            / nullif(count(*), 0),
            4
        ) as null_rate,
        {{ threshold }} as threshold
    from {{ model }}
    where {{ partition_filter(partition_column) }}
    having count(*) - count({{ column_name }}) > {{ threshold }} * count(*)
{% endtest %}
