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
from orchestration.db.embedded import ensure_database
from orchestration.db.schema import ensure_schema
from orchestration.generate import generate


def _count(url: str, table: str) -> int:
    with connect(url) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])  # type: ignore[index]


def _wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _workers_of(pid: int) -> list[int]:
    """Live parse workers started by process `pid` (the loader starts them for big files)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if b"orchestration.ingest.workers" in cmdline and int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _fingerprints(url: str) -> tuple[int, str]:
    with connect(url) as conn:
        count, digest = conn.execute(
            "select count(*), md5(coalesce(string_agg(record_fingerprint, ',' order by record_fingerprint), '')) "
            "from raw.ticket_events"
        ).fetchone()  # type: ignore[misc]
    return int(count), str(digest)


def _books(url: str) -> tuple[tuple[int, int, int, int], int]:
    with connect(url) as conn:
        ledger = conn.execute("select lines_read, loaded, duplicates, rejected from ops.ingest_ledger").fetchall()
        rejects = int(conn.execute("select count(*) from ops.ingest_rejects").fetchone()[0])  # type: ignore[index]
    assert len(ledger) == 1, ledger
    return tuple(ledger[0]), rejects


def test_killed_ingest_leaves_no_trace_and_recovers(empty_db: str, tmp_path: Path) -> None:
    """SIGKILL at three moments of one file (early, middle, late), then a rerun: exactly a clean load."""
    summary = generate(tmp_path, date(2026, 4, 10), 1, 30000, seed=5)
    manifest = next((tmp_path / "manifests").glob("*.json"))
    command = [sys.executable, "-m", "orchestration.cli", "ingest", "--manifest", str(manifest), "--json"]
    env = dict(os.environ, DATABASE_URL=empty_db)

    def file_transaction_open() -> bool:
        with connect(empty_db) as conn:
            return bool(conn.execute("select count(*) from pg_locks where locktype = 'advisory'").fetchone()[0])

    killed_inside = 0
    saw_workers = False
    for delay in (0.0, 0.4, 1.0):
        victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert _wait_for(file_transaction_open), "the ingest never opened its file transaction"
        time.sleep(delay)
        inside = file_transaction_open() and victim.poll() is None
        workers = _workers_of(victim.pid)
        saw_workers = saw_workers or bool(workers)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        assert _wait_for(lambda ws=workers: not [w for w in ws if _alive(w)]), "parse workers outlived their loader"
        assert _wait_for(lambda: not file_transaction_open()), "the server kept the dead client's transaction"
        if not inside or _count(empty_db, "ops.ingest_ledger") == 1:
            break  # the file committed before this kill: whole and balanced (the fixture checks), never half
        killed_inside += 1
        for table in ("raw.ticket_events", "ops.ingest_ledger", "ops.ingest_rejects", "ops.ingest_state"):
            assert _count(empty_db, table) == 0, (delay, table)
    assert killed_inside >= 2, "the file loaded too fast to be interrupted: make it bigger"
    assert saw_workers, "the file is big enough for parse workers, which never started"

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr

    clean_url = ensure_database(empty_db, "factory_kill_clean")
    with connect(clean_url) as conn:
        ensure_schema(conn)
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.commit()
    clean = subprocess.run(command, env=dict(env, DATABASE_URL=clean_url), capture_output=True, text=True, timeout=300)
    assert clean.returncode == done.returncode, clean.stderr

    assert _fingerprints(empty_db) == _fingerprints(clean_url)
    assert _books(empty_db) == _books(clean_url)
    (lines, loaded, dups, rejected), rejects = _books(empty_db)
    assert lines == summary.records == loaded + dups + rejected and rejects == rejected == summary.invalid
