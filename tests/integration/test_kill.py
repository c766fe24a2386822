"""kill -9 in the middle of an ingest: nothing half-written, and the next ingest loads everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from orchestration.db.connection import connect
from orchestration.generate import generate


def _count(url: str, table: str) -> int:
    with connect(url) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])  # type: ignore[index]


def _wait_for(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_killed_ingest_leaves_no_trace_and_recovers(empty_db: str, tmp_path: Path) -> None:
    summary = generate(tmp_path, date(2026, 4, 10), 1, 12000, seed=5)
    manifest = next((tmp_path / "manifests").glob("*.json"))
    command = [sys.executable, "-m", "orchestration.cli", "ingest", "--manifest", str(manifest), "--json"]
    env = dict(os.environ, DATABASE_URL=empty_db)

    def file_transaction_open() -> bool:
        with connect(empty_db) as conn:
            return bool(conn.execute("select count(*) from pg_locks where locktype = 'advisory'").fetchone()[0])

    victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _wait_for(file_transaction_open), "the ingest never opened its file transaction"
    time.sleep(0.3)  # well inside the file: parsing and COPY are under way
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert _wait_for(lambda: not file_transaction_open()), "the server kept the dead client's transaction"
    for table in ("raw.ticket_events", "ops.ingest_ledger", "ops.ingest_rejects", "ops.ingest_state"):
        assert _count(empty_db, table) == 0, table

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert _count(empty_db, "ops.ingest_ledger") == 1
    assert _count(empty_db, "raw.ticket_events") + _count(empty_db, "ops.ingest_rejects") > 0
    with connect(empty_db) as conn:
        lines, loaded, dups, rejected = conn.execute(
            "select lines_read, loaded, duplicates, rejected from ops.ingest_ledger"
        ).fetchone()  # type: ignore[misc]
    assert lines == summary.records == loaded + dups + rejected
