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
