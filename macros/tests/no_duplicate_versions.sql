{% test no_duplicate_versions(
    model,
    column_name,
    payload_column='payload',
    fingerprint_column='record_fingerprint',
    partition_column='partition_date'
) %}
    {#-
        A version is a distinct record of a ticket. In the partition window, fail for
        every ticket that holds two rows with the same payload (jsonb equality ignores
        key order and whitespace) and for every record_fingerprint seen twice: the
        ingest should have counted those as duplicates instead of loading them.
    -#}
    with scoped as (
        select
            {{ column_name }} as ticket_key,
            {{ payload_column }} as version_payload,
            {{ fingerprint_column }} as version_fingerprint
        from {{ model }}
        where {{ partition_filter(partition_column) }}
    ),

    same_payload as (
        select
            ticket_key,
            'duplicate_payload' as failure_reason,
            count(*) as n_rows
        from scoped
        group by ticket_key, version_payload
        having count(*) > 1
    ),

    same_fingerprint as (
        select
            min(ticket_key) as ticket_key,
            'duplicate_record_fingerprint' as failure_reason,
            count(*) as n_rows
        from scoped
        group by version_fingerprint
        having count(*) > 1
    )

    select * from same_payload
    union all
    select * from same_fingerprint
{% endtest %}
