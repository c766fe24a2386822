"""The manifest gate on the course's manifests and on local files, hostile ones included."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from orchestration.gate.manifest_gate import ManifestUnreadable, judge_manifest, manifest_partitions
from tests.conftest import course_fixture
from tests.helpers import jsonl, ticket, write_source


def _codes(asset) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.code for r in asset.reasons}


def test_practice_manifest_judges_accept_warn_quarantine_on_metadata() -> None:
    result = judge_manifest(course_fixture("manifest_week02_practice_v1.json"))
    by_id = {a.source_id: a for a in result.assets}
    assert by_id["structured:tickets:practice_ok"].metadata_judgment == "accept"
    assert by_id["structured:tickets:practice_warn"].metadata_judgment == "warn"
    assert _codes(by_id["structured:tickets:practice_warn"]) >= {"partial_metadata", "missing_checksum"}
    assert by_id["structured:tickets:practice_quarantine"].metadata_judgment == "quarantine"
    assert "pii_scan_gap" in _codes(by_id["structured:tickets:practice_quarantine"])
    # s3:// objects cannot be read here: each says so precisely, none is loadable.
    for asset in result.assets:
        assert "remote_source_not_configured" in _codes(asset) and "unsupported_scheme" not in _codes(asset)
        assert asset.judgment == "not_available" and not asset.loadable
    assert result.status == "not_available" and result.refused


def test_synthetic_manifest_is_judged_without_crashing() -> None:
    result = judge_manifest(course_fixture("manifest_tickets_synthetic_v1.json"))
    assert result.manifest_id == "manifest-tickets-synthetic-20260331-001"
    assert [a.metadata_judgment for a in result.assets] == ["accept", "accept"]
    assert [a.judgment for a in result.assets] == ["not_available", "not_available"]
    assert result.refused and result.status == "not_available"
    assert manifest_partitions(result.manifest) == [date(2026, 3, 31)]


def test_local_file_with_matching_checksum_is_accepted(tmp_path: Path) -> None:
    manifest = write_source(tmp_path, "ok.jsonl", jsonl(ticket()))
    result = judge_manifest(manifest)
    (asset,) = result.assets
    assert asset.judgment == "accept" and asset.loadable and asset.reasons == []


@pytest.mark.parametrize(
    ("overrides", "code", "judgment"),
    [
        ({"checksum_sha256": "0" * 64}, "checksum_mismatch", "reject"),
        ({"size_bytes": 1}, "size_mismatch", "reject"),
        ({"source_url_or_path": "../data/absent.jsonl"}, "file_missing", "reject"),
        ({"source_url_or_path": "../../../../etc/passwd"}, "path_outside_source_root", "reject"),
        ({"source_url_or_path": "https://example.com/x.jsonl"}, "remote_source_not_configured", "not_available"),
        ({"source_url_or_path": "S3://bucket/x.jsonl"}, "remote_source_not_configured", "not_available"),
        ({"source_url_or_path": "gopher://example.com/x.jsonl"}, "unsupported_scheme", "reject"),
        ({"asset_type": "parquet"}, "unsupported_asset_type", "reject"),
        ({"pii_scan_status": "suspected"}, "pii_suspected", "quarantine"),
        ({"contract_ref": "omni://contracts/data/doc_asset/v1"}, "contract_mismatch", "reject"),
        ({"checksum_sha256": None}, "missing_checksum", "warn"),
    ],
)
def test_asset_refusals(tmp_path: Path, overrides: dict, code: str, judgment: str) -> None:
    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket()), **overrides)
    (asset,) = judge_manifest(manifest).assets
    assert code in _codes(asset)
    assert asset.judgment == judgment
    assert asset.loadable == (judgment in ("accept", "warn"))


def test_symlink_escaping_the_source_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.jsonl"
    outside.write_bytes(jsonl(ticket()))
    root = tmp_path / "root"
    manifest = write_source(root, "t.jsonl", outside.read_bytes())
    (root / "data" / "t.jsonl").unlink()
    (root / "data" / "t.jsonl").symlink_to(outside)
    (asset,) = judge_manifest(manifest).assets
    assert "path_outside_source_root" in _codes(asset)


def test_manifest_rules_reject_every_asset(tmp_path: Path) -> None:
    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket()))
    document = json.loads(manifest.read_text())
    document["assets"].append(dict(document["assets"][0]))
    document["license_tag"] = "unknown"
    manifest.write_text(json.dumps(document))
    result = judge_manifest(manifest)
    assert {r.code for r in result.reasons} == {"duplicate_source_id"}
    assert all({"duplicate_source_id", "unknown_license"} <= _codes(a) for a in result.assets)
    assert not any(a.loadable for a in result.assets)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "manifest_malformed_json"),
        (b"\xff\xfe", "manifest_undecodable"),
        (json.dumps({"manifest_id": "x"}).encode(), "manifest_invalid"),
        (b"[]", "manifest_invalid"),
    ],
)
def test_unreadable_manifests_raise_with_code(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(ManifestUnreadable) as err:
        judge_manifest(path)
    assert err.value.code == code
    with pytest.raises(ManifestUnreadable) as missing:
        judge_manifest(tmp_path / "absent.json")
    assert missing.value.code == "manifest_missing"
