{% test partition_reconciliation(
    model,
    column_name,
    compare_model,
    compare_column=none,
    partition_column='partition_date'
) %}
    {#-
        Silver against raw for the partition window: every key present in
        `compare_model` (the raw versions) has exactly one row in `model`, in the same
        partition, and `model` holds no key that the raw window lacks. So
        rows(model) = count(distinct key) of the raw window. One failing row per key,
        with `failure_reason` missing_in_model | not_in_source | duplicated_in_model.
    -#}
    {%- set source_key = compare_column if compare_column else column_name -%}

    with source_keys as (
        select
            {{ partition_column }} as partition_key,
            {{ source_key }} as reconciled_key,
            count(*) as source_versions
        from {{ compare_model }}
        where {{ partition_filter(partition_column) }}
        group by 1, 2
    ),

    model_keys as (
        select
            {{ partition_column }} as partition_key,
            {{ column_name }} as reconciled_key,
            count(*) as model_rows
        from {{ model }}
        where {{ partition_filter(partition_column) }}
        group by 1, 2
    ),

    compared as (
        select
            coalesce(s.partition_key, m.partition_key) as partition_key,
            coalesce(s.reconciled_key, m.reconciled_key) as reconciled_key,
            coalesce(s.source_versions, 0) as source_versions,
            coalesce(m.model_rows, 0) as model_rows,
            case
                when m.reconciled_key is null then 'missing_in_model'
                when s.reconciled_key is null then 'not_in_source'
                when m.model_rows > 1 then 'duplicated_in_model'
            end as failure_reason
        from source_keys as s
        full outer join model_keys as m
            on
                s.partition_key = m.partition_key
                and s.reconciled_key = m.reconciled_key
    )

    select *
    from compared
    where failure_reason is not null
{% endtest %}
