"""DDL of the tables Python owns: bronze `raw` and bookkeeping `ops` (dbt owns staging/silver/gold)."""

from __future__ import annotations

import psycopg

# 2: no ticket_id index on raw; 3: table and column comments; 4: payload out of line;
# 5: ledger.rejects_not_stored (rejected lines counted but not kept, over WEEK06_MAX_REJECT_ROWS);
# 6: ledger source_etag and source_version (s3:// objects)
SCHEMA_VERSION = 6

DDL = """
create schema if not exists raw;
create schema if not exists ops;

create table if not exists raw.ticket_events (
    event_id            bigint generated always as identity primary key,
    record_fingerprint  text        not null,
    ticket_id           text        not null,
    partition_date      date        not null,
    created_at          timestamptz not null,
    updated_at          timestamptz,
    resolved_at         timestamptz,
    sla_due_at          timestamptz,
    status              text        not null,
    priority            text        not null,
    category            text,
    product_line        text        not null,
    sla_tier            text,
    customer_id         text        not null,
    assignee_id         text,
    pii_level           text        not null,
    quality_gate        text        not null,
    payload             jsonb       not null,
    manifest_id         text        not null,
    batch_id            text        not null,
    run_id              text        not null,
    source_id           text        not null,
    source_fingerprint  text        not null,
    source_line         integer     not null,
    trace_id            text,
    ingested_at         timestamptz not null,
    constraint ticket_events_record_fingerprint_key unique (record_fingerprint)
);
create index if not exists ticket_events_partition_date_idx on raw.ticket_events (partition_date);
-- Meant to keep the payload out of line, but PostgreSQL only starts moving values out of a row
-- over ~2 KB (TOAST_TUPLE_THRESHOLD), whatever toast_tuple_target says: a typical ticket row
-- (~1.5 KB) stays inline (measured 2026-12-03: 0 bytes of TOAST after 1M rows). Only unusually
-- large payloads go out of line, uncompressed. Harmless, and kept so existing databases and new
-- ones stay alike.
alter table raw.ticket_events set (toast_tuple_target = 128);
alter table raw.ticket_events alter column payload set storage external;
-- No index on ticket_id: every reader (dbt's staging and tests) selects by partition_date, and a
-- second secondary index cost about 13% of the load throughput when measured.
drop index if exists raw.ticket_events_ticket_id_idx;

create table if not exists ops.ingest_ledger (
    ledger_id           bigint generated always as identity primary key,
    run_id              text        not null,
    manifest_id         text        not null,
    batch_id            text        not null,
    source_id           text        not null,
    source_path         text        not null,
    source_fingerprint  text        not null,
    size_bytes          bigint      not null,
    lines_read          integer     not null,
    loaded              integer     not null,
    duplicates          integer     not null,
    rejected            integer     not null,
    rejected_by_reason  jsonb       not null default '{}'::jsonb,
    touched_partitions  date[]      not null default '{}',
    trace_id            text,
    started_at          timestamptz not null,
    finished_at         timestamptz not null,
    constraint ingest_ledger_balanced check (lines_read = loaded + duplicates + rejected),
    constraint ingest_ledger_run_source_key unique (run_id, source_id, source_fingerprint)
);
alter table ops.ingest_ledger add column if not exists rejects_not_stored integer not null default 0;
-- s3:// sources: the object's ETag and version as the store gave them (null for local files).
alter table ops.ingest_ledger add column if not exists source_etag text;
alter table ops.ingest_ledger add column if not exists source_version text;
create index if not exists ingest_ledger_source_idx
    on ops.ingest_ledger (source_id, source_fingerprint);

create table if not exists ops.ingest_rejects (
    reject_id           bigint generated always as identity primary key,
    run_id              text        not null,
    manifest_id         text        not null,
    source_id           text        not null,
    source_path         text        not null,
    source_fingerprint  text        not null,
    line_number         integer     not null,
    reason_codes        text[]      not null,
    detail              text        not null,
    raw_excerpt         text        not null,
    raw_bytes           integer     not null,
    rejected_at         timestamptz not null
);
create index if not exists ingest_rejects_run_idx on ops.ingest_rejects (run_id);

create table if not exists ops.schema_info (
    singleton           boolean     primary key default true check (singleton),
    version             integer     not null,
    applied_at          timestamptz not null default now()
);

create table if not exists ops.ingest_state (
    source_id           text primary key,
    checkpoint          text        not null,
    cursor_field        text,
    cursor_value        timestamptz,
    watermark           timestamptz not null,
    last_run_id         text        not null,
    last_manifest_id    text        not null,
    last_batch_id       text        not null,
    updated_at          timestamptz not null
);

comment on table ops.ingest_state is
    'One row per source: where its ingest stands. Written in the same transaction as the file''s rows and ledger row.';
comment on column ops.ingest_state.checkpoint is
    'sha256 of the last committed file of this source: a restart resumes after it (that file is already_loaded).';
comment on column ops.ingest_state.cursor_field is
    'The manifest''s selection_window.cursor_field (the record field the cursor follows), when it names one.';
comment on column ops.ingest_state.cursor_value is
    'Highest coalesce(updated_at, created_at) of the valid records read so far: the next export starts after it.';
comment on column ops.ingest_state.watermark is
    'Highest ingested_at of this source: everything it delivered up to this moment is in raw.ticket_events.';
comment on column ops.ingest_state.last_run_id is 'The ingest run that last committed a file of this source.';
comment on column ops.ingest_state.last_manifest_id is 'The manifest that declared that file.';
comment on column ops.ingest_state.last_batch_id is 'The batch_id of that manifest.';
comment on column ops.ingest_state.updated_at is 'When this row was last written.';
comment on table ops.ingest_ledger is
    'One row per (run, source file) that committed. Always lines_read = loaded + duplicates + rejected.';
comment on column ops.ingest_ledger.rejects_not_stored is
    'Rejected lines over WEEK06_MAX_REJECT_ROWS: counted in rejected and rejected_by_reason, not kept as rows.';
comment on table ops.ingest_rejects is
    'Rejected lines (the first WEEK06_MAX_REJECT_ROWS of a file): number, reason codes, detail, a bounded excerpt.';
comment on column ops.ingest_ledger.source_etag is
    'ETag of the s3:// object that was read (null for a local file): already_loaded needs the same one.';
comment on column ops.ingest_ledger.source_version is
    'Version id of the s3:// object that was read, when the store versions its bucket.';
comment on table raw.ticket_events is
    'Bronze: each accepted ticket version once (unique record_fingerprint), with anchors of the run that loaded it.';
"""


def _installed_version(conn: psycopg.Connection) -> int | None:
    exists = conn.execute("select to_regclass('ops.schema_info') is not null").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute("select version from ops.schema_info").fetchone()
    return int(row[0]) if row else None


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create or upgrade the raw and ops tables (idempotent; safe under concurrent callers).

    When the installed version is current this is two catalog reads: no DDL runs, so no lock is
    taken on raw.ticket_events (`create index if not exists` would wait for every open ingest).
    """
    with conn.transaction():
        if _installed_version(conn) == SCHEMA_VERSION:
            return
    with conn.transaction():
        # Serialise concurrent bootstraps: `create ... if not exists` can race on the catalog.
        conn.execute("select pg_advisory_xact_lock(hashtext('support_data_factory.schema'))")
        conn.execute(DDL)
        conn.execute(
            "insert into ops.schema_info (version) values (%s) "
            "on conflict (singleton) do update set version = excluded.version, applied_at = now()",
            (SCHEMA_VERSION,),
        )
