{% macro register_raw_lake() -%}
    {#-
        on-run-start hook. On PostgreSQL nothing: raw.ticket_events is the ingest's own
        table. On Spark, raw.ticket_events is an external parquet table over the lake
        that `data-factory lake export` fills (one folder partition_date=YYYY-MM-DD per
        day, under WEEK06_LAKE_ROOT/raw/ticket_events); the hook declares it once and
        syncs its partitions with the folders at every invocation.
    -#}
    {{ return(adapter.dispatch('register_raw_lake')()) }}
{%- endmacro %}

{% macro default__register_raw_lake() -%}
{%- endmacro %}

{% macro spark__register_raw_lake() -%}
    {%- set lake_root = env_var('WEEK06_LAKE_ROOT', '../.local/lake') | trim -%}
    {%- if lake_root.startswith('s3://') -%}
        {%- set lake_root = 's3a://' ~ lake_root[5:] -%}
    {%- endif -%}
    {%- set location = lake_root.rstrip('/') ~ '/raw/ticket_events' -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {#- One statement per call: Spark's parser takes a single statement. -#}
    {%- do run_query('create database if not exists raw') -%}
    {%- set create_table -%}
    create table if not exists raw.ticket_events (
        event_id bigint,
        record_fingerprint string,
        ticket_id string,
        created_at timestamp,
        updated_at timestamp,
        resolved_at timestamp,
        sla_due_at timestamp,
        status string,
        priority string,
        category string,
        product_line string,
        sla_tier string,
        customer_id string,
        assignee_id string,
        pii_level string,
        quality_gate string,
        payload string,
        manifest_id string,
        batch_id string,
        run_id string,
        source_id string,
        source_fingerprint string,
        source_line int,
        trace_id string,
        ingested_at timestamp,
        partition_date date
    )
    using parquet
    partitioned by (partition_date)
    location '{{ location }}'
    {%- endset -%}
    {%- do run_query(create_table) -%}
    {%- do run_query('msck repair table raw.ticket_events sync partitions') -%}
{%- endmacro %}
