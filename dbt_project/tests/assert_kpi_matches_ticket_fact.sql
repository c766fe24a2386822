{#-
    Gold adds up to silver: for every partition of the window, the KPI mart's totals
    (tickets created, resolved, breached, escalated) equal the counts taken directly
    from ticket_fact. One failing row per partition that disagrees.
-#}
{{ config(meta={'dagster': {'ref': {'name': 'support_kpi_daily'}}}) }}

with ticket_fact as (

    select
        partition_date,
        count(*) as tickets_created,
        count(*) filter (where is_resolved) as tickets_resolved,
        count(*) filter (where not is_resolved) as open_backlog,
        count(*) filter (where sla_breached) as sla_breaches,
        count(*) filter (where status = 'escalated') as escalated_tickets
    from {{ ref('ticket_fact') }}
    where {{ partition_filter('partition_date') }}
    group by partition_date

),

kpi as (

    select
        partition_date,
        sum(tickets_created) as tickets_created,
        sum(tickets_resolved) as tickets_resolved,
        sum(open_backlog) as open_backlog,
        sum(sla_breaches) as sla_breaches,
        sum(escalated_tickets) as escalated_tickets
    from {{ ref('support_kpi_daily') }}
    where {{ partition_filter('partition_date') }}
    group by partition_date

),

partitions as (

    select partition_date from ticket_fact
    union
    select partition_date from kpi

),

compared as (

    select
        p.partition_date,
        t.tickets_created as fact_tickets_created,
        k.tickets_created as kpi_tickets_created,
        t.tickets_resolved as fact_tickets_resolved,
        k.tickets_resolved as kpi_tickets_resolved,
        t.open_backlog as fact_open_backlog,
        k.open_backlog as kpi_open_backlog,
        t.sla_breaches as fact_sla_breaches,
        k.sla_breaches as kpi_sla_breaches,
        t.escalated_tickets as fact_escalated_tickets,
        k.escalated_tickets as kpi_escalated_tickets
    from partitions as p
    left join ticket_fact as t
        on p.partition_date = t.partition_date
    left join kpi as k
        on p.partition_date = k.partition_date

)

select * from compared
where
    fact_tickets_created is distinct from kpi_tickets_created
    or fact_tickets_resolved is distinct from kpi_tickets_resolved
    or fact_open_backlog is distinct from kpi_open_backlog
    or fact_sla_breaches is distinct from kpi_sla_breaches
    or fact_escalated_tickets is distinct from kpi_escalated_tickets
