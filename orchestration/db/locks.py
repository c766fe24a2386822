"""Locks that serialise work across processes sharing one database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from orchestration.db.connection import connect

DBT_BUILD_LOCK = "support_data_factory.dbt_build"


@contextmanager
def dbt_build_lock(url: str) -> Iterator[None]:
    """Hold a session advisory lock for the length of one dbt build.

    Two builds at once (two runs of one partition, or of overlapping ranges) race on dbt's DDL
    (`relation "stg_ticket_events" already exists`) and on an incremental model's delete+insert
    of the same days; in turn, each sees the other's result. The lock goes with its connection,
    so a killed run or a restarted server never leaves it behind.
    """
    conn = connect(url, autocommit=True)
    try:
        conn.execute("select pg_advisory_lock(hashtext(%s)::bigint)", (DBT_BUILD_LOCK,))
        yield
    finally:
        conn.close()  # releases the lock; never raises, even when the server went away
