{% macro safe_rate(numerator, denominator, scale=4) -%}
    {#-
        numerator / denominator as numeric rounded to `scale` decimals, null (never a
        division error) when the denominator is 0 or null. The one definition of a rate
        in the KPI mart.
    -#}
    round({{ numerator }}::numeric / nullif({{ denominator }}, 0), {{ scale }})
{%- endmacro %}
