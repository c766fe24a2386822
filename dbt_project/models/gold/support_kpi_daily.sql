{#-
    Daily support KPIs of the tickets created on each day of the partition window (a
    created-on cohort, judged as of each ticket's latest loaded version: a late update
    of an old ticket changes that old day's rows once the day is replayed).

    Two breakdowns per day: one row per product_line x priority that has tickets, and
    one `overall` row (product_line = priority = 'all') that exists for every day of the
    window, with ticket_count 0 and null rates on a day without tickets. Rates come from
    safe_rate(): null, never a division error, when there is no denominator.
    Incremental delete+insert on partition_date, like its upstream.
-#}

{#- dbt's own delete of delete+insert (`partition_date in (select ... from tmp)`) cannot
    use the partition_date index and scans all history; the window predicate lets it.
    (The pre-hook delete_partition_window() has already emptied the window.) -#}
{{ config(
    incremental_predicates=[partition_filter('DBT_INTERNAL_DEST.partition_date')]
) }}

{%- set window = partition_window() %}

with ticket_fact as (

    select * from {{ ref('ticket_fact') }}
    where {{ partition_filter('partition_date') }}

),

partition_days as (

    {#- Under --full-refresh the window is open ended: stop at the last built day. #}
    {{ partition_day_spine(window, 'select max(partition_date) from ticket_fact') }}

),

aggregated as (

    select
        partition_date,
        product_line,
        priority,
        {{ grouping_level(['product_line', 'priority']) }} as grouping_level,
        count(*) as ticket_count,
        count(*) filter (where is_open) as open_ticket_count,
        count(*) filter (where priority = 'p1_critical') as p1_ticket_count,
        count(*) filter (where was_escalated) as escalation_count,
        count(*) filter (where sla_breached) as sla_breach_count,
        count(*) filter (where is_resolved) as resolved_count,
        avg(resolution_minutes) as avg_handle_time_minutes,
        avg(age_days) filter (where is_open) as avg_backlog_age_days
    from ticket_fact
    group by grouping sets (
        (partition_date, product_line, priority),
        (partition_date)
    )

),

by_product_line_priority as (

    select
        partition_date,
        'product_line_priority' as breakdown,
        product_line,
        priority,
        ticket_count,
        open_ticket_count,
        p1_ticket_count,
        escalation_count,
        sla_breach_count,
        resolved_count,
        avg_handle_time_minutes,
        avg_backlog_age_days
    from aggregated
    where grouping_level = 0

),

overall as (

    select
        spine.partition_date,
        'overall' as breakdown,
        'all' as product_line,
        'all' as priority,
        coalesce(totals.ticket_count, 0) as ticket_count,
        coalesce(totals.open_ticket_count, 0) as open_ticket_count,
        coalesce(totals.p1_ticket_count, 0) as p1_ticket_count,
        coalesce(totals.escalation_count, 0) as escalation_count,
        coalesce(totals.sla_breach_count, 0) as sla_breach_count,
        coalesce(totals.resolved_count, 0) as resolved_count,
        totals.avg_handle_time_minutes,
        totals.avg_backlog_age_days
    from partition_days as spine
    left join aggregated as totals
        on
            spine.partition_date = totals.partition_date
            and totals.grouping_level = 3

),

unioned as (

    select * from by_product_line_priority
    union all
    select * from overall

),

final as (

    select
        partition_date,
        breakdown,
        product_line,
        priority,
        {{ engine_cast('ticket_count', 'integer') }} as ticket_count,
        {{ engine_cast('open_ticket_count', 'integer') }} as open_ticket_count,
        {{ engine_cast('p1_ticket_count', 'integer') }} as p1_ticket_count,
        {{ engine_cast('escalation_count', 'integer') }} as escalation_count,
        {{ engine_cast(safe_rate('escalation_count', 'ticket_count'), 'numeric(5, 4)') }}
            as escalation_rate,
        {{ engine_cast('sla_breach_count', 'integer') }} as sla_breach_count,
        {{ engine_cast(safe_rate('sla_breach_count', 'ticket_count'), 'numeric(5, 4)') }}
            as sla_breach_rate,
        {{ engine_cast('resolved_count', 'integer') }} as resolved_count,
        {{ engine_cast(safe_rate('resolved_count', 'ticket_count'), 'numeric(5, 4)') }}
            as resolution_rate,
        {{ engine_cast('round(avg_handle_time_minutes, 2)', 'numeric(14, 2)') }}
            as avg_handle_time_minutes,
        {{ engine_cast('round(avg_backlog_age_days, 4)', 'numeric(12, 4)') }}
            as avg_backlog_age_days
    from unioned

)

select * from final
