{% test no_duplicate_versions(
    model,
    column_name,
    payload_column='payload',
    fingerprint_column='record_fingerprint',
    version_column='version_at',
    partition_column='partition_date'
) %}
    {#-
        A version is a distinct record of a ticket. In the partition window, fail for
        every ticket that holds two rows with the same payload (jsonb equality ignores
        key order and whitespace) and for every record_fingerprint seen twice: the
        ingest should have counted those as duplicates instead of loading them.

        Two identical payloads carry the same version time (`version_column`, derived
        from the payload), so payloads are compared only inside the (ticket, version
        time) groups that hold more than one row: on clean data there is none, and the
        ~1 kB payloads of a long window are never aggregated.
    -#}
    with scoped as (
        select
            {{ column_name }} as ticket_key,
            {{ version_column }} as version_key,
            {{ fingerprint_column }} as version_fingerprint
        from {{ model }}
        where {{ partition_filter(partition_column) }}
    ),

    same_fingerprint as (
        select
            min(ticket_key) as ticket_key,
            'duplicate_record_fingerprint' as failure_reason,
            count(*) as n_rows
        from scoped
        group by version_fingerprint
        having count(*) > 1
    ),

    same_version_time as (
        select
            ticket_key,
            version_key
        from scoped
        group by ticket_key, version_key
        having count(*) > 1
    ),

    candidates as (
        select
            versions.{{ column_name }} as ticket_key,
            versions.{{ payload_column }} as version_payload
        from {{ model }} as versions
        inner join same_version_time as suspect
            on
                versions.{{ column_name }} = suspect.ticket_key
                and versions.{{ version_column }} = suspect.version_key
        where {{ partition_filter('versions.' ~ partition_column) }}
    ),

    same_payload as (
        select
            ticket_key,
            'duplicate_payload' as failure_reason,
            count(*) as n_rows
        from candidates
        group by ticket_key, version_payload
        having count(*) > 1
    )

    select * from same_payload
    union all
    select * from same_fingerprint
{% endtest %}
