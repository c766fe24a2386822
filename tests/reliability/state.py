"""What "the same final state" means for the reliability tests: row counts and content checksums."""

from __future__ import annotations

from typing import Any

from orchestration.db.connection import connect

_RAW = (
    "select count(*), md5(coalesce(string_agg(record_fingerprint || payload::text || partition_date::text, ','"
    " order by record_fingerprint), '')) from raw.ticket_events"
)
_LEDGER = (
    "select source_id, source_fingerprint, lines_read, loaded, duplicates, rejected, rejected_by_reason,"
    " rejects_not_stored, touched_partitions from ops.ingest_ledger order by source_id, source_fingerprint"
)
_REJECTS = (
    "select source_id, line_number, reason_codes, detail, raw_excerpt, raw_bytes"
    " from ops.ingest_rejects order by source_id, line_number"
)
_STATE = "select source_id, checkpoint, cursor_field, cursor_value from ops.ingest_state order by source_id"


def table_state(url: str) -> tuple[Any, ...]:
    """Raw rows (count, checksum of fingerprint + payload + day), ledger, rejects and state, free of
    run ids and clock times: two databases that loaded the same files compare equal."""
    with connect(url) as conn:
        raw = conn.execute(_RAW).fetchone()
        ledger = conn.execute(_LEDGER).fetchall()
        rejects = conn.execute(_REJECTS).fetchall()
        state = conn.execute(_STATE).fetchall()
    return tuple(raw or ()), ledger, rejects, state


def modelled_state(url: str, first: str, last: str) -> tuple[Any, ...]:
    """What dbt built for the days first..last: silver rows (count and checksum) and the gold KPIs."""
    with connect(url) as conn:
        silver = conn.execute(
            "select count(*), md5(coalesce(string_agg(t::text, ',' order by t::text), ''))"
            " from silver.ticket_fact t where partition_date between %s and %s",
            (first, last),
        ).fetchone()
        gold = conn.execute(
            "select md5(coalesce(string_agg(k::text, ',' order by k::text), ''))"
            " from gold.support_kpi_daily k where partition_date between %s and %s",
            (first, last),
        ).fetchone()
    return tuple(silver or ()), tuple(gold or ())
