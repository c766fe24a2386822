"""Concurrency: simultaneous ingests and runs end exactly as one would have."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orchestration.config import Settings
from orchestration.db.connection import connect
from orchestration.ingest import chunks, loader
from tests.helpers import jsonl, ticket, write_source
from tests.reliability.state import table_state


def _in_threads(*calls: Any) -> list[Any]:
    out: list[Any] = [None] * len(calls)

    def run(i: int, call: Any) -> None:
        try:
            out[i] = call()
        except BaseException as exc:  # handed to the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return out


@pytest.mark.parametrize("workers", [0, 1], ids=["in_process", "parse_workers"])
def test_two_sources_with_the_same_records(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Two sources deliver the same 20 000 records at once: each record is stored once, the loser
    redoes its file on the conflict-safe path (with fresh parse workers) and reports duplicates."""
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 256 * 1024)
    content = jsonl(*(ticket(n) for n in range(1, 20_001)))
    manifests = [
        write_source(tmp_path / name, f"{name}.jsonl", content, source_id=f"structured:tickets:{name}")
        for name in ("east", "west")
    ]
    settings = replace(Settings.from_env(), ingest_workers=workers)
    results = _in_threads(
        *(
            lambda m=m: loader.ingest_manifest(empty_db, m, settings=settings, source_root=m.parent.parent)
            for m in manifests
        )
    )
    files = [r.files[0] for r in results if not isinstance(r, BaseException)]
    assert len(files) == 2, results
    assert all(f.status == "loaded" for f in files), [f.reasons for f in files]
    assert sorted(f.loaded for f in files) == [0, 20_000] or sum(f.loaded for f in files) == 20_000
    assert sum(f.duplicates for f in files) == 20_000
    raw, _, _, _ = table_state(empty_db)
    assert raw[0] == 20_000


def test_four_simultaneous_ingests_of_one_manifest(empty_db: str, tmp_path: Path) -> None:
    """Four ingests of one manifest at once (four processes): the file is loaded exactly once, the
    other three find it already_loaded, and the tables equal one ingest's."""
    content = jsonl(*(ticket(n) for n in range(1, 5001)), b"{bad", ticket(1))
    manifest = write_source(tmp_path, "four.jsonl", content)
    command = [sys.executable, "-m", "orchestration.cli", "ingest", "--manifest", str(manifest), "--json"]
    env = dict(os.environ, DATABASE_URL=empty_db)
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    # The loader reports the rejected line (exit 1); already_loaded is a success (exit 0).
    assert sorted(p.returncode for p in procs) == [0, 0, 0, 1], [err[-500:] for _, err in outputs]
    statuses = sorted(json.loads(out)["files"][0]["status"] for out, _ in outputs)
    assert statuses == ["already_loaded", "already_loaded", "already_loaded", "loaded"]
    raw, ledger, rejects, _ = table_state(empty_db)
    assert raw[0] == 5000 and len(ledger) == 1 and len(rejects) == 1
    assert ledger[0][2:6] == (5002, 5000, 1, 1)


@pytest.mark.heavy
def test_simultaneous_runs_of_a_partition_and_an_overlapping_range(pg_url: str) -> None:
    """`run --partition D` and `run --start D-1 --end D` at the same time: both end as a single
    run would (exit 0, nothing held), and a sequential run afterwards changes nothing."""
    from orchestration.db.schema import ensure_schema
    from tests.reliability.state import modelled_state

    with connect(pg_url) as conn:
        ensure_schema(conn)
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.execute("drop schema if exists staging, silver, gold cascade")
        conn.commit()
    cli = [sys.executable, "-m", "orchestration.cli", "run", "--json"]
    env = dict(os.environ, DATABASE_URL=pg_url)
    single = ["--partition", "2026-04-17"]
    overlapping = ["--start", "2026-04-16", "--end", "2026-04-17"]
    procs = [
        subprocess.Popen([*cli, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in (single, overlapping)
    ]
    outputs = [p.communicate(timeout=900) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert json.loads(out)["success"] is True
    after_concurrent = (table_state(pg_url), modelled_state(pg_url, "2026-04-16", "2026-04-17"))
    again = subprocess.run([*cli, *overlapping], env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (table_state(pg_url), modelled_state(pg_url, "2026-04-16", "2026-04-17")) == after_concurrent
