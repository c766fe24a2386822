"""Each file is hashed once: its sha256 is remembered by file identity, and any change is noticed."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from orchestration.gate.manifest_gate import judge_manifest
from orchestration.sources import digests
from orchestration.sources.digests import DigestCache, file_sha256
from tests.helpers import jsonl, ticket, write_source


@pytest.fixture()
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    # The racy window is 2 s in production; a short one keeps these tests fast. Each test still
    # waits longer than any timestamp tick between writing a file and hashing it.
    monkeypatch.setattr(digests, "RACY_SECONDS", 0.02)


def _settle() -> None:
    time.sleep(0.06)


def test_an_unchanged_file_is_hashed_once(tmp_path: Path, quick: None) -> None:
    cache = DigestCache(tmp_path / "cache" / "digests.sqlite3")
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"one\n" * 1000)
    _settle()
    first = file_sha256(path, cache)
    second = file_sha256(path, cache)
    assert first == (hashlib.sha256(b"one\n" * 1000).hexdigest(), 4000, True)
    assert second == (first[0], first[1], False)  # from the cache, nothing read


def test_any_write_is_noticed_even_with_the_same_size(tmp_path: Path, quick: None) -> None:
    cache = DigestCache(tmp_path / "digests.sqlite3")
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"aaaa\n")
    _settle()
    file_sha256(path, cache)
    _settle()
    path.write_bytes(b"bbbb\n")  # same size, other bytes
    sha, size, measured = file_sha256(path, cache)
    assert (sha, size, measured) == (hashlib.sha256(b"bbbb\n").hexdigest(), 5, True)


def test_a_file_written_just_before_hashing_is_not_remembered(tmp_path: Path) -> None:
    # With the real racy window: a write within it could keep the same identity, so no trust.
    cache = DigestCache(tmp_path / "digests.sqlite3")
    path = tmp_path / "fresh.jsonl"
    path.write_bytes(b"fresh\n")
    assert file_sha256(path, cache)[2] is True
    assert file_sha256(path, cache)[2] is True


def test_a_broken_cache_only_costs_a_re_hash(tmp_path: Path, quick: None) -> None:
    (tmp_path / "not-a-db").write_text("this is no sqlite file")
    for cache in (DigestCache(tmp_path / "not-a-db"), DigestCache(None)):
        path = tmp_path / "b.jsonl"
        path.write_bytes(b"x\n")
        _settle()
        assert file_sha256(path, cache) == (hashlib.sha256(b"x\n").hexdigest(), 2, True)


def test_the_gate_still_catches_a_file_changed_since_it_was_remembered(tmp_path: Path, quick: None) -> None:
    cache = DigestCache(tmp_path / "digests.sqlite3")
    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket(1)))
    _settle()
    (asset,) = judge_manifest(manifest, digests=cache).assets
    assert asset.judgment == "accept"
    data = tmp_path / "data" / "t.jsonl"
    assert file_sha256(data, cache)[2] is False  # remembered by the gate
    _settle()
    data.write_bytes(jsonl(ticket(2)))  # same length, other ticket
    (asset,) = judge_manifest(manifest, digests=cache).assets
    assert [r.code for r in asset.reasons] == ["checksum_mismatch"]
