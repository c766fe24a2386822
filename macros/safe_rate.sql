{% macro safe_rate(numerator, denominator, scale=4) -%}
    {#-
        numerator / denominator as numeric rounded to `scale` decimals, null (never a
        division error) when the denominator is 0 or null. The one definition of a rate
        in the KPI mart.
    -#}
    {{ return(adapter.dispatch('safe_rate')(numerator, denominator, scale)) }}
{%- endmacro %}

{% macro default__safe_rate(numerator, denominator, scale) -%}
    round({{ numerator }}::numeric / nullif({{ denominator }}, 0), {{ scale }})
{%- endmacro %}

{% macro spark__safe_rate(numerator, denominator, scale) -%}
    {#- decimal / bigint keeps 18 exact decimals here; round() is half-up like
        PostgreSQL's round(numeric). -#}
    round(
        cast({{ numerator }} as decimal(20, 0)) / nullif({{ denominator }}, 0), {{ scale }}
    )
{%- endmacro %}
