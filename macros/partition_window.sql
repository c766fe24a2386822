{#-
    The partition window: the one place that turns the dbt vars into the dates an
    incremental model or a partition-scoped test may touch.

    Vars:
      partition_date                  one UTC day, e.g. 2026-04-17
      partition_start, partition_end  a range of days, start inclusive, end exclusive
      (no var)                        the same from env WEEK06_WINDOW_PARTITION_DATE, or
                                      WEEK06_WINDOW_PARTITION_START and _END: how the Dagster
                                      job passes its window, so that dbt's saved parse stays
                                      valid from one window to the next
      (none of them)                  the demo partition, env WEEK06_DEFAULT_PARTITION

    What dbt renders while parsing (a model's config(), e.g. incremental_predicates) sees
    the window of the vars, or the demo partition when the window comes from the
    environment: the models' pre-hook delete_partition_window() empties the run's window
    first, so their delete+insert stays exact whatever that predicate says (it only keeps
    dbt's own, then empty, delete on the partition_date index).
      --full-refresh                  all history: from WEEK06_PARTITION_START_DATE on, open
                                      ended, whatever the vars (a full refresh recreates the
                                      tables, so a narrower window would lose the rest)

    Refusals raise a compilation error whose message starts with a stable reason code:
      invalid_partition_var   a var is not a YYYY-MM-DD calendar date, or the vars are mixed
      partition_out_of_range  end <= start, or the window starts before
                              WEEK06_PARTITION_START_DATE (the first partition)
-#}

{% macro partition_window() -%}
    {%- set first_partition = parse_partition_date(
        'WEEK06_PARTITION_START_DATE',
        env_var('WEEK06_PARTITION_START_DATE', '2026-01-01')
    ) -%}
    {%- if flags.FULL_REFRESH -%}
        {{ return({
            'start': first_partition.isoformat(),
            'end': none,
            'days': none,
            'mode': 'full_refresh',
        }) }}
    {%- endif -%}

    {%- set day = partition_window_var('partition_date') -%}
    {%- set start = partition_window_var('partition_start') -%}
    {%- set end = partition_window_var('partition_end') -%}
    {%- if execute and day is none and start is none and end is none -%}
        {#- No window var: the window may come from the environment (how the Dagster job
            passes it), read while executing only. -#}
        {%- set day = partition_window_env('partition_date') -%}
        {%- set start = partition_window_env('partition_start') -%}
        {%- set end = partition_window_env('partition_end') -%}
    {%- endif -%}

    {%- if day is not none and (start is not none or end is not none) -%}
        {{ refuse_partition_window(
            'invalid_partition_var',
            'pass either partition_date or partition_start/partition_end, not both '
            ~ '(got partition_date=' ~ day ~ ', partition_start=' ~ start
            ~ ', partition_end=' ~ end ~ ')'
        ) }}
    {%- elif (start is none) != (end is none) -%}
        {{ refuse_partition_window(
            'invalid_partition_var',
            'partition_start and partition_end go together (got partition_start='
            ~ start ~ ', partition_end=' ~ end ~ ')'
        ) }}
    {%- endif -%}

    {%- if start is not none -%}
        {%- set mode = 'range' -%}
        {%- set start_date = parse_partition_date('partition_start', start) -%}
        {%- set end_date = parse_partition_date('partition_end', end) -%}
    {%- else -%}
        {%- if day is not none -%}
            {%- set mode = 'day' -%}
            {%- set start_date = parse_partition_date('partition_date', day) -%}
        {%- else -%}
            {%- set mode = 'default' -%}
            {%- set start_date = parse_partition_date(
                'WEEK06_DEFAULT_PARTITION',
                env_var('WEEK06_DEFAULT_PARTITION', '2026-04-17')
            ) -%}
        {%- endif -%}
        {%- set end_date = start_date + modules.datetime.timedelta(days=1) -%}
    {%- endif -%}

    {%- if end_date <= start_date -%}
        {{ refuse_partition_window(
            'partition_out_of_range',
            'partition_end (' ~ end_date ~ ') must be after partition_start ('
            ~ start_date ~ '); the end is exclusive'
        ) }}
    {%- endif -%}

    {%- if start_date < first_partition -%}
        {{ refuse_partition_window(
            'partition_out_of_range',
            'the window starts on ' ~ start_date ~ ', before the first partition '
            ~ first_partition ~ ' (WEEK06_PARTITION_START_DATE)'
        ) }}
    {%- endif -%}

    {{ return({
        'start': start_date.isoformat(),
        'end': end_date.isoformat(),
        'days': (end_date - start_date).days,
        'mode': mode,
    }) }}
{%- endmacro %}


{% macro partition_filter(column) -%}
    {#-
        Render `<column> >= start and <column> < end` for the current window (no upper
        bound under --full-refresh). `column` must be a date column (partition_date):
        comparing a timestamptz with a date would depend on the session time zone.
    -#}
    {%- set window = partition_window() -%}
    {{ column }} >= cast('{{ window.start }}' as date)
    {%- if window.end is not none %}
    and {{ column }} < cast('{{ window.end }}' as date)
    {%- endif -%}
{%- endmacro %}


{% macro partition_window_var(name) -%}
    {#- A window var as a trimmed string, or none when unset, empty, `none` or `null`. -#}
    {%- set value = var(name, none) -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = (value | string) | trim -%}
    {%- if text == '' or text | lower in ['none', 'null'] -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{% macro partition_window_env(name) -%}
    {#-
        A window var from the env var WEEK06_WINDOW_<NAME>, or none when unset or empty.
        Called while executing only, never while parsing: the window then changes neither
        dbt's saved parse (`--vars` on the command line do: dbt re-parses the whole project
        whenever they change) nor any parsed node.
    -#}
    {%- set text = (env_var('WEEK06_WINDOW_' ~ (name | upper), '') | string) | trim -%}
    {{ return(text if text != '' else none) }}
{%- endmacro %}


{% macro parse_partition_date(name, text) -%}
    {#-
        Parse YYYY-MM-DD into a date without letting Python raise: dbt's Jinja has no
        try/except, so every field is range-checked before a date is built.
    -#}
    {%- set text = (text | string) | trim -%}
    {%- set match = modules.re.match('^([0-9]{4})-([0-9]{2})-([0-9]{2})$', text) -%}
    {%- if not match -%}
        {{ refuse_partition_window(
            'invalid_partition_var',
            name ~ '=' ~ text ~ ' is not a date in the form YYYY-MM-DD'
        ) }}
    {%- endif -%}
    {%- set year = match.group(1) | int -%}
    {%- set month = match.group(2) | int -%}
    {%- set day = match.group(3) | int -%}
    {%- if year < 1 or year > 9998 or month < 1 or month > 12 or day < 1 -%}
        {{ refuse_partition_window(
            'invalid_partition_var', name ~ '=' ~ text ~ ' is not a calendar date'
        ) }}
    {%- endif -%}
    {%- set first_of_month = modules.datetime.date(year, month, 1) -%}
    {%- set first_of_next = modules.datetime.date(
        year + (month // 12), (month % 12) + 1, 1
    ) -%}
    {%- if day > (first_of_next - first_of_month).days -%}
        {{ refuse_partition_window(
            'invalid_partition_var', name ~ '=' ~ text ~ ' is not a calendar date'
        ) }}
    {%- endif -%}
    {{ return(modules.datetime.date(year, month, day)) }}
{%- endmacro %}


{% macro refuse_partition_window(reason_code, message) -%}
    {{ exceptions.raise_compiler_error(reason_code ~ ': ' ~ message) }}
{%- endmacro %}
