{% macro generate_schema_name(custom_schema_name, node) -%}
    {#-
        Use a model's custom schema as is (staging, silver, gold) instead of dbt's
        default `<target_schema>_<custom_schema>`: the layers are fixed names that the
        Python side, Dagster and the docs all refer to. Nodes without a custom schema
        (tests storing failures, seeds) fall back to the target schema.
    -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
