"""Read-only figures over the tables dbt builds: row counts per partition of a window."""

from __future__ import annotations

from datetime import date

from psycopg import sql

from orchestration.db.connection import connect
from orchestration.partitions import days_between


def window_row_counts(url: str, relation_name: str, first: date, last: date) -> dict[date, int]:
    """Rows per partition_date of `relation_name` (a quoted relation from dbt's manifest) in first..last.

    Every partition of the window is present, with 0 when it has no rows.
    """
    query = sql.SQL(
        "select partition_date, count(*) from {} where partition_date between %s and %s group by partition_date"
    ).format(sql.SQL(relation_name))
    with connect(url) as conn:
        rows: dict[date, int] = dict(conn.execute(query, (first, last)).fetchall())
    return {day: int(rows.get(day, 0)) for day in days_between(first, last)}
