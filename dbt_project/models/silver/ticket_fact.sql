{#-
    One row per ticket (its latest version) for the tickets created in the partition
    window. Incremental delete+insert on partition_date (dbt_project.yml): a build
    replaces exactly the partitions of the window, so replaying one is idempotent.
    The window filter is applied to the version rows before the latest one is chosen:
    the build reads the partition, not the history.
-#}

with ticket_events as (

    select * from {{ ref('stg_ticket_events') }}
    where {{ partition_filter('partition_date') }}

),

latest_versions as (

    select * from ticket_events
    where version_rank = 1

),

assessed as (

    select
        *,
        status in ('resolved', 'closed') as is_resolved
    from latest_versions

),

final as (

    select
        ticket_id,
        partition_date,
        created_at,
        updated_at,
        resolved_at,
        sla_due_at,
        status,
        priority,
        category,
        product_line,
        sla_tier,
        customer_id,
        assignee_id,
        pii_level,
        quality_gate,
        version_count::integer as version_count,
        is_resolved,
        case
            when is_resolved and resolved_at is not null
                then round(
                    extract(epoch from resolved_at - created_at) / 3600, 2
                )::numeric(12, 2)
        end as resolution_hours,
        {#- Breach is judged as of the version itself (resolution time, else its
            last update), never now(): a replay gives the same answer. -#}
        coalesce(
            sla_due_at < case
                when is_resolved and resolved_at is not null then resolved_at
                else version_at
            end,
            false
        ) as sla_breached,
        record_fingerprint,
        source_id,
        batch_id,
        manifest_id,
        run_id,
        ingested_at
    from assessed

)

select * from final
