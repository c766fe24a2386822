{% test kpi_bounds(
    model,
    rate_columns=[],
    count_columns=[],
    non_negative_columns=[],
    not_above={},
    partition_column='partition_date'
) %}
    {#-
        Plausibility of a KPI mart in the partition window, one failing row per
        violation:
          rate_columns          within [0, 1] (null allowed: no denominator)
          count_columns         not null and >= 0
          non_negative_columns  >= 0 when present (hours, averages)
          not_above             {column: ceiling_column}: column <= ceiling_column,
                                e.g. tickets_resolved <= tickets_created
    -#}
    {%- set checks = [] -%}
    {%- for column in rate_columns -%}
        {%- do checks.append((
            'rate_out_of_bounds', column,
            column ~ ' < 0 or ' ~ column ~ ' > 1'
        )) -%}
    {%- endfor -%}
    {%- for column in count_columns -%}
        {%- do checks.append((
            'negative_or_missing_count', column,
            column ~ ' is null or ' ~ column ~ ' < 0'
        )) -%}
    {%- endfor -%}
    {%- for column in non_negative_columns -%}
        {%- do checks.append(('negative_value', column, column ~ ' < 0')) -%}
    {%- endfor -%}
    {%- for column, ceiling in not_above.items() -%}
        {%- do checks.append((
            'exceeds_' ~ ceiling, column, column ~ ' > ' ~ ceiling
        )) -%}
    {%- endfor -%}
    {%- if checks | length == 0 -%}
        {{ exceptions.raise_compiler_error('kpi_bounds: no column to check') }}
    {%- endif -%}

    with scoped as (
        select *
        from {{ model }}
        where {{ partition_filter(partition_column) }}
    )

    {% for reason, column, violated in checks %}
        select
            {{ partition_column }} as partition_key,
            '{{ column }}' as kpi_column,
            '{{ reason }}' as failure_reason,
            cast({{ column }} as {{ engine_type('text') }}) as observed_value
        from scoped
        where {{ violated }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
