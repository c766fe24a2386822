{% macro get_where_subquery(relation) -%}
    {#-
        dbt's hook for a test's `where` config, extended with one placeholder:
        `__partition_window__` becomes partition_filter('partition_date'). YAML test
        configs cannot call project macros (dbt renders them before macros exist), so
        the built-in tests (not_null, accepted_values, ...) read the partition window
        through this token: `config: {where: "__partition_window__"}`.
    -#}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- if '__partition_window__' in where -%}
            {%- set where = where | replace(
                '__partition_window__', partition_filter('partition_date')
            ) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
