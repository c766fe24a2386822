"""Read-only figures over the bronze table (row counts per partition)."""

from __future__ import annotations

from datetime import date

from orchestration.db.connection import connect


def partition_row_counts(url: str, first: date, last: date) -> dict[date, int]:
    with connect(url) as conn:
        rows = conn.execute(
            "select partition_date, count(*) from raw.ticket_events "
            "where partition_date between %s and %s group by partition_date",
            (first, last),
        ).fetchall()
    return {d: int(n) for d, n in rows}


def partition_versions(url: str, days: list[date]) -> dict[date, str]:
    """A digest of each partition's set of record fingerprints: it changes exactly when rows land in it."""
    with connect(url) as conn:
        rows = conn.execute(
            "select partition_date, md5(string_agg(record_fingerprint, ',' order by record_fingerprint)) "
            "from raw.ticket_events where partition_date = any(%s) group by partition_date",
            (days,),
        ).fetchall()
    return {d: str(v)[:16] for d, v in rows}
