{#-
    Gold adds up to silver: for every partition of the window, the `overall` row and
    the sum of the product_line x priority rows of support_kpi_daily both carry the
    counts taken directly from ticket_fact (ticket_count = silver rows, and so on).
    One failing row per partition and count that disagree.
-#}
{{ config(meta={'dagster': {'ref': {'name': 'support_kpi_daily'}}}) }}

{%- set counts = {
    'ticket_count': 'true',
    'open_ticket_count': 'is_open',
    'p1_ticket_count': "priority = 'p1_critical'",
    'escalation_count': 'was_escalated',
    'sla_breach_count': 'sla_breached',
    'resolved_count': 'is_resolved',
} %}

with fact as (

    select
        partition_date,
        {%- for name, condition in counts.items() %}
            count(*) filter (where {{ condition }}) as {{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('ticket_fact') }}
    where {{ partition_filter('partition_date') }}
    group by partition_date

),

kpi as (

    select * from {{ ref('support_kpi_daily') }}
    where {{ partition_filter('partition_date') }}

),

overall as (

    select * from kpi
    where breakdown = 'overall'

),

detail as (

    select
        partition_date,
        {%- for name in counts %}
            sum({{ name }}) as {{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from kpi
    where breakdown = 'product_line_priority'
    group by partition_date

),

partitions as (

    select partition_date from fact
    union
    select partition_date from kpi

),

compared as (

    {%- for name in counts %}
        select
            p.partition_date,
            '{{ name }}' as kpi_column,
            coalesce(f.{{ name }}, 0) as silver_value,
            o.{{ name }} as overall_value,
            coalesce(d.{{ name }}, 0) as detail_sum
        from partitions as p
        left join fact as f on p.partition_date = f.partition_date
        left join overall as o on p.partition_date = o.partition_date
        left join detail as d on p.partition_date = d.partition_date
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

)

select * from compared
where
    overall_value is distinct from silver_value
    or detail_sum != silver_value
