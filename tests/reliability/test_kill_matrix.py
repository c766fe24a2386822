"""SIGKILL a real ingest at ten seeded moments of one file, on both parse paths; after each kill
the tables hold the file whole or not at all, and a rerun ends exactly as a clean run: same rows
(count and content checksum), ledger, rejects and ingest state."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from orchestration.config import Settings
from orchestration.db.connection import connect
from orchestration.db.embedded import ensure_database
from orchestration.db.schema import ensure_schema
from orchestration.generate import generate
from orchestration.ingest import chunks, loader
from tests.integration.test_kill import _alive, _workers_of
from tests.reliability.state import table_state

pytestmark = pytest.mark.heavy
MOMENTS = 10
SEED = 20261202
TABLES = "raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state"
# The parse-worker path for a file of a few MB: workers from the first byte, small chunks.
_WORKERS_ENTRY = (
    "import sys; from orchestration.ingest import chunks, loader; "
    "loader.PARALLEL_MIN_BYTES = 0; chunks.CHUNK_BYTES = 128 * 1024; "
    "from orchestration.cli import main; sys.exit(main(sys.argv[1:]))"
)
PATHS = {
    "in_process": ([sys.executable, "-m", "orchestration.cli"], {"WEEK06_INGEST_WORKERS": "0"}),
    "parse_workers": ([sys.executable, "-c", _WORKERS_ENTRY], {"WEEK06_INGEST_WORKERS": "2"}),
}


def _truncate(url: str) -> None:
    with connect(url) as conn:
        ensure_schema(conn)
        conn.execute(f"truncate {TABLES}")
        conn.commit()


def _empty(url: str) -> bool:
    with connect(url) as conn:
        return all(
            conn.execute(f"select count(*) from {t}").fetchone()[0] == 0  # type: ignore[index]
            for t in TABLES.split(", ")
        )


def _locks(url: str) -> int:
    with connect(url) as conn:
        return int(conn.execute("select count(*) from pg_locks where locktype = 'advisory'").fetchone()[0])  # type: ignore[index]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kill-matrix")
    generate(root, date(2026, 4, 10), 1, 3000, seed=SEED % 1000)
    return next((root / "manifests").glob("*.json"))


@pytest.fixture(scope="module")
def clean(pg_url: str, source: Path) -> dict[str, Any]:
    """The state a clean, uninterrupted ingest leaves, and how long the command takes."""
    url = ensure_database(pg_url, "factory_kill_matrix_clean")
    _truncate(url)
    command, extra = PATHS["in_process"]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "ingest", "--manifest", str(source)],
        env=dict(os.environ, DATABASE_URL=url, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr  # generated files hold invalid lines on purpose
    return {"state": table_state(url), "seconds": time.monotonic() - started}


def _rerun(url: str, manifest: Path, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    workers = path == "parse_workers"
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0 if workers else loader.PARALLEL_MIN_BYTES)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 128 * 1024 if workers else chunks.CHUNK_BYTES)
    monkeypatch.setenv("WEEK06_INGEST_WORKERS", "2" if workers else "0")
    result = loader.ingest_manifest(url, manifest, settings=Settings.from_env())
    assert all(f.status in ("loaded", "already_loaded") for f in result.files), [f.reasons for f in result.files]


def _wait_for_lock(url: str, victim: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll until the ingest holds its advisory lock (its file transaction is open)."""
    deadline = time.monotonic() + timeout
    while victim.poll() is None and time.monotonic() < deadline:
        if _locks(url) > 0:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("path", list(PATHS))
def test_sigkill_at_seeded_moments(
    empty_db: str, source: Path, clean: dict[str, Any], path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    command, extra = PATHS[path]
    rng = random.Random(f"{SEED}-{path}")
    moments = sorted(rng.uniform(0.1, clean["seconds"] * 1.1) for _ in range(MOMENTS))
    env = dict(os.environ, DATABASE_URL=empty_db, **extra)
    inside = 0
    saw_workers = False

    def kill_once(moment: float, *, after_lock: bool = False) -> bool:
        """Start an ingest, SIGKILL it `moment` seconds in (after it took its lock, if asked), check
        whole-or-nothing and a clean rerun; True when the kill landed inside the file's transaction."""
        nonlocal saw_workers
        _truncate(empty_db)
        victim = subprocess.Popen(
            [*command, "ingest", "--manifest", str(source), "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if after_lock:
            _wait_for_lock(empty_db, victim, timeout=clean["seconds"] * 5 + 30)
        time.sleep(moment)
        in_transaction = victim.poll() is None and _locks(empty_db) > 0
        workers = _workers_of(victim.pid)
        saw_workers = saw_workers or bool(workers)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        deadline = time.monotonic() + 60
        while ([w for w in workers if _alive(w)] or _locks(empty_db)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], f"parse workers outlived their loader ({moment:.2f}s)"
        assert _locks(empty_db) == 0, "the server kept the dead client's transaction"
        # Whole or nothing: never a part of the file.
        committed = not _empty(empty_db)
        if committed:
            assert table_state(empty_db) == clean["state"], f"a partial file after a kill at {moment:.2f}s"
        _rerun(empty_db, source, path, monkeypatch)
        assert table_state(empty_db) == clean["state"], f"rerun after a kill at {moment:.2f}s differs"
        return in_transaction and not committed

    for moment in moments:
        inside += kill_once(moment)
    # The seeded moments come from one clean run's duration; on a loaded machine the transaction
    # can move out from under them. Then kill inside it on purpose: wait for its lock, then a
    # seeded delay within the first part of the file, until three kills have landed there.
    extra_kills = 0
    while inside < 3 and extra_kills < 8:
        inside += kill_once(rng.uniform(0.0, 0.3), after_lock=True)
        extra_kills += 1
    assert inside >= 3, f"only {inside} of {MOMENTS + extra_kills} kills landed inside the file's transaction"
    assert path == "in_process" or saw_workers, "the parse-worker path never started workers"
