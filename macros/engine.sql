{#-
    What differs between the two engines the project runs on, PostgreSQL (the default
    target) and Apache Spark (dbt-spark), behind adapter.dispatch. Each postgres__/default__
    implementation renders exactly the SQL the models used before Spark existed; each
    spark__ one renders the Spark SQL that gives the same values (tests/spark proves it row
    for row). Spark has no `::` casts, no text/timestamptz/jsonb types, no two-column
    grouping(), no extract(epoch from interval) and no generate_series over dates.
-#}

{% macro engine_type(data_type) -%}
    {{ return(adapter.dispatch('engine_type')(data_type)) }}
{%- endmacro %}

{% macro default__engine_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro spark__engine_type(data_type) -%}
    {#- text and jsonb (kept as its JSON text) are strings; a timestamptz is Spark's
        timestamp (an instant, shown in the session time zone, UTC); a bare numeric gets
        room for exact ratios of counts. -#}
    {%- set name = data_type | trim | lower -%}
    {%- set mapped = {
        'text': 'string',
        'jsonb': 'string',
        'timestamptz': 'timestamp',
        'numeric': 'decimal(38, 10)',
    } -%}
    {%- if name in mapped -%}
        {{ return(mapped[name]) }}
    {%- elif name.startswith('numeric(') -%}
        {{ return('decimal' ~ name[7:]) }}
    {%- endif -%}
    {{ return(name) }}
{%- endmacro %}


{% macro engine_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('engine_cast')(expression, data_type)) }}
{%- endmacro %}

{% macro default__engine_cast(expression, data_type) -%}
    {{ expression }}::{{ data_type }}
{%- endmacro %}

{% macro spark__engine_cast(expression, data_type) -%}
    cast({{ expression }} as {{ engine_type(data_type) }})
{%- endmacro %}


{% macro epoch_seconds_between(later, earlier) -%}
    {#- Seconds from `earlier` to `later` (timestamps), exact to the microsecond. -#}
    {{ return(adapter.dispatch('epoch_seconds_between')(later, earlier)) }}
{%- endmacro %}

{% macro default__epoch_seconds_between(later, earlier) -%}
    extract(epoch from {{ later }} - {{ earlier }})
{%- endmacro %}

{% macro spark__epoch_seconds_between(later, earlier) -%}
    cast(unix_micros({{ later }}) - unix_micros({{ earlier }}) as decimal(20, 0)) / 1000000
{%- endmacro %}


{% macro grouping_level(columns) -%}
    {#- PostgreSQL's grouping(a, b, ...): bit i set when columns[i] is aggregated away
        in the row's grouping set (first column = most significant bit). -#}
    {{ return(adapter.dispatch('grouping_level')(columns)) }}
{%- endmacro %}

{% macro default__grouping_level(columns) -%}
    grouping({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__grouping_level(columns) -%}
    {#- Spark's grouping() takes one column, and grouping_id() must name every
        grouping column: add the bits up instead. -#}
    {%- set terms = [] -%}
    {%- for column in columns -%}
        {%- do terms.append(
            'grouping(' ~ column ~ ') * ' ~ (2 ** (columns | length - loop.index))
        ) -%}
    {%- endfor -%}
    ({{ terms | join(' + ') }})
{%- endmacro %}


{% macro partition_day_spine(window, last_day_query) -%}
    {#-
        A select of one row per day of the window (`partition_date`). Under
        --full-refresh the window has no end: the spine stops at `last_day_query` (a
        scalar subquery returning the last built day).
    -#}
    {{ return(adapter.dispatch('partition_day_spine')(window, last_day_query)) }}
{%- endmacro %}

{% macro default__partition_day_spine(window, last_day_query) -%}
    select calendar_day::date as partition_date
    from generate_series(
        '{{ window.start }}'::date,
        {%- if window.end is not none %}
            '{{ window.end }}'::date - 1,
        {%- else %}
            ({{ last_day_query }}),
        {%- endif %}
        interval '1 day'
    ) as calendar_day
{%- endmacro %}

{% macro spark__partition_day_spine(window, last_day_query) -%}
    {#- sequence() of an empty history is null, and explode(null) gives no row, like
        generate_series to a null bound. -#}
    select explode(sequence(
        cast('{{ window.start }}' as date),
        {%- if window.end is not none %}
            date_sub(cast('{{ window.end }}' as date), 1),
        {%- else %}
            ({{ last_day_query }}),
        {%- endif %}
        interval 1 day
    )) as partition_date
{%- endmacro %}
