"""Concurrency: simultaneous ingests and runs end exactly as one would have."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orchestration.config import Settings
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
