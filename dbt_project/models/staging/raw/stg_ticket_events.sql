{#-
    One row per ticket version as loaded into raw.ticket_events, typed and renamed, with
    the time that orders the versions (version_at). A plain projection, never filtered
    here and without window functions: a caller's window filter (where partition_date
    ...) reaches the raw index scan directly, so a partition-scoped read or test costs
    the partition. Ordering the versions of a ticket is silver's job.
-#}

with source as (

    select * from {{ source('raw', 'ticket_events') }}

),

renamed as (

    select
        event_id::bigint as event_id,
        ticket_id::text as ticket_id,
        partition_date::date as partition_date,
        created_at::timestamptz as created_at,
        updated_at::timestamptz as updated_at,
        resolved_at::timestamptz as resolved_at,
        sla_due_at::timestamptz as sla_due_at,
        status::text as status,
        priority::text as priority,
        category::text as category,
        product_line::text as product_line,
        sla_tier::text as sla_tier,
        customer_id::text as customer_id,
        assignee_id::text as assignee_id,
        pii_level::text as pii_level,
        quality_gate::text as quality_gate,
        payload::jsonb as payload,
        record_fingerprint::text as record_fingerprint,
        manifest_id::text as manifest_id,
        batch_id::text as batch_id,
        run_id::text as run_id,
        source_id::text as source_id,
        source_fingerprint::text as source_fingerprint,
        source_line::integer as source_line,
        trace_id::text as trace_id,
        ingested_at::timestamptz as ingested_at,
        coalesce(updated_at, created_at)::timestamptz as version_at
    from source

)

select * from renamed
