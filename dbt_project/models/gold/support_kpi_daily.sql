{#-
    Daily support KPIs per product line and priority, for the tickets created on each
    day of the partition window (a created-on cohort: a late update of an old ticket
    changes that old day's row once the day is replayed). Incremental delete+insert
    on partition_date, like its upstream.
-#}

with ticket_fact as (

    select * from {{ ref('ticket_fact') }}
    where {{ partition_filter('partition_date') }}

),

daily as (

    select
        partition_date,
        product_line,
        priority,
        count(*) as tickets_created,
        count(*) filter (where is_resolved) as tickets_resolved,
        count(*) filter (where not is_resolved) as open_backlog,
        count(*) filter (where sla_breached) as sla_breaches,
        count(*) filter (where status = 'escalated') as escalated_tickets,
        percentile_cont(0.5) within group (
            order by resolution_hours
        ) as median_resolution_hours,
        avg(resolution_hours) as avg_resolution_hours
    from ticket_fact
    group by partition_date, product_line, priority

),

final as (

    select
        partition_date,
        product_line,
        priority,
        tickets_created::integer as tickets_created,
        tickets_resolved::integer as tickets_resolved,
        open_backlog::integer as open_backlog,
        sla_breaches::integer as sla_breaches,
        escalated_tickets::integer as escalated_tickets,
        round(
            sla_breaches::numeric / nullif(tickets_created, 0), 4
        )::numeric(5, 4) as sla_breach_rate,
        round(median_resolution_hours::numeric, 2)::numeric(12, 2)
            as median_resolution_hours,
        round(avg_resolution_hours, 2)::numeric(12, 2) as avg_resolution_hours
    from daily

)

select * from final
