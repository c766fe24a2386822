"""Read-only look at the database catalog: the columns of a table, with their types."""

from __future__ import annotations

from orchestration.db.connection import connect


def table_columns(url: str, schema: str, table: str) -> list[tuple[str, str]]:
    """(column name, SQL type) of schema.table in column order; empty when the table does not exist."""
    with connect(url) as conn:
        rows = conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]
