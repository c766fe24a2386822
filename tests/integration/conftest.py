"""Integration tests share one guarantee: after every test, the books balance.

For every ledger row (one file of one run): lines_read = loaded + duplicates + rejected, `loaded`
equals the raw rows that carry the run's anchors, and `rejected` equals the rejects it kept plus
those it only counted (over WEEK06_MAX_REJECT_ROWS).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

LEDGER_MISMATCHES = """
select l.run_id, l.source_id, l.lines_read, l.loaded, l.duplicates, l.rejected, l.rejects_not_stored,
       (select count(*) from raw.ticket_events e
         where e.run_id = l.run_id and e.source_id = l.source_id
           and e.source_fingerprint = l.source_fingerprint) as raw_rows,
       (select count(*) from ops.ingest_rejects r
         where r.run_id = l.run_id and r.source_id = l.source_id
           and r.source_fingerprint = l.source_fingerprint) as reject_rows
from ops.ingest_ledger l
"""


@pytest.fixture(autouse=True)
def ledger_balances(request: pytest.FixtureRequest, pg_url: str) -> Iterator[None]:
    yield
    if "empty_db" not in request.fixturenames:
        return
    from orchestration.db.connection import connect

    with connect(pg_url) as conn:
        rows = conn.execute(LEDGER_MISMATCHES).fetchall()
    for run_id, source_id, lines, loaded, dups, rejected, not_stored, raw_rows, reject_rows in rows:
        assert lines == loaded + dups + rejected, (run_id, source_id)
        assert loaded == raw_rows, (run_id, source_id, loaded, raw_rows)
        assert rejected == reject_rows + not_stored, (run_id, source_id, rejected, reject_rows, not_stored)
