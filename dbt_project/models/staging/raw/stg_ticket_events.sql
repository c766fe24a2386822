{#-
    One row per ticket version as loaded into raw.ticket_events, typed and renamed, with
    the time that orders the versions (version_at). A plain projection, never filtered
    here and without window functions: a caller's window filter (where partition_date
    ...) reaches the raw index scan directly, so a partition-scoped read or test costs
    the partition. Ordering the versions of a ticket is silver's job.
    engine_cast() is `::` on PostgreSQL and cast(... as <Spark type>) on Spark.
-#}

with source as (

    select * from {{ source('raw', 'ticket_events') }}

),

renamed as (

    select
        {{ engine_cast('event_id', 'bigint') }} as event_id,
        {{ engine_cast('ticket_id', 'text') }} as ticket_id,
        {{ engine_cast('partition_date', 'date') }} as partition_date,
        {{ engine_cast('created_at', 'timestamptz') }} as created_at,
        {{ engine_cast('updated_at', 'timestamptz') }} as updated_at,
        {{ engine_cast('resolved_at', 'timestamptz') }} as resolved_at,
        {{ engine_cast('sla_due_at', 'timestamptz') }} as sla_due_at,
        {{ engine_cast('status', 'text') }} as status,
        {{ engine_cast('priority', 'text') }} as priority,
        {{ engine_cast('category', 'text') }} as category,
        {{ engine_cast('product_line', 'text') }} as product_line,
        {{ engine_cast('sla_tier', 'text') }} as sla_tier,
        {{ engine_cast('customer_id', 'text') }} as customer_id,
        {{ engine_cast('assignee_id', 'text') }} as assignee_id,
        {{ engine_cast('pii_level', 'text') }} as pii_level,
        {{ engine_cast('quality_gate', 'text') }} as quality_gate,
        {{ engine_cast('payload', 'jsonb') }} as payload,
        {{ engine_cast('record_fingerprint', 'text') }} as record_fingerprint,
        {{ engine_cast('manifest_id', 'text') }} as manifest_id,
        {{ engine_cast('batch_id', 'text') }} as batch_id,
        {{ engine_cast('run_id', 'text') }} as run_id,
        {{ engine_cast('source_id', 'text') }} as source_id,
        {{ engine_cast('source_fingerprint', 'text') }} as source_fingerprint,
        {{ engine_cast('source_line', 'integer') }} as source_line,
        {{ engine_cast('trace_id', 'text') }} as trace_id,
        {{ engine_cast('ingested_at', 'timestamptz') }} as ingested_at,
        {{ engine_cast('coalesce(updated_at, created_at)', 'timestamptz') }} as version_at
    from source

)

select * from renamed
