"""Hash each file once per run: the ingest's verified read is remembered, a re-ingest reads nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestration.config import Settings
from orchestration.gate.manifest_gate import judge_manifest
from orchestration.ingest.loader import ingest_gated, ingest_manifest
from orchestration.sources import digests
from orchestration.sources.digests import DigestCache, file_sha256
from tests.helpers import jsonl, ticket, write_source


def test_the_ingest_remembers_what_it_verified_and_a_reingest_reads_nothing(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "RACY_SECONDS", 0.02)
    settings = Settings.from_env()
    cache = DigestCache(settings.digest_cache)
    manifest = write_source(tmp_path, "once.jsonl", jsonl(*(ticket(n) for n in range(1, 40))))
    data = tmp_path / "data" / "once.jsonl"
    gate = judge_manifest(manifest, digests=DigestCache(None))  # a gate that remembers nothing
    time.sleep(0.06)
    (loaded,) = ingest_gated(empty_db, gate, settings=settings).files
    assert (loaded.status, loaded.loaded) == ("loaded", 39)
    sha, _, measured = file_sha256(data, cache)
    assert (sha, measured) == (loaded.source_fingerprint, False)  # the ingest's own read, remembered

    again = ingest_manifest(empty_db, manifest, settings=settings)
    assert [f.status for f in again.files] == ["already_loaded"]


def test_a_file_rewritten_after_it_was_remembered_is_read_again(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "RACY_SECONDS", 0.02)
    settings = Settings.from_env()
    manifest = write_source(tmp_path, "moved.jsonl", jsonl(ticket(1), ticket(2)), declare_checksum=False)
    time.sleep(0.06)
    assert [f.status for f in ingest_manifest(empty_db, manifest, settings=settings).files] == ["loaded"]
    time.sleep(0.06)
    (tmp_path / "data" / "moved.jsonl").write_bytes(jsonl(ticket(3), ticket(4)))  # same size
    (result,) = ingest_manifest(empty_db, manifest, settings=settings).files
    assert (result.status, result.loaded) == ("loaded", 2)
