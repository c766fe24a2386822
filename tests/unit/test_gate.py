"""The manifest gate on the course's manifests and on local files, hostile ones included."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from orchestration import contracts
from orchestration.cli import main
from orchestration.gate.manifest_gate import judge_manifest
from orchestration.gate.manifests import ManifestUnreadable, covered_range, manifest_partitions
from tests.conftest import FIXTURES, PROJECT_ROOT, course_fixture
from tests.helpers import BASE_MANIFEST, jsonl, ticket, write_source

DOC_CONTRACT = "omni://contracts/data/doc_asset/v1"
ABSENT = "(absent)"  # an asset field left out of the manifest


def _codes(asset) -> set[str]:
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
        ({"asset_type": "pdf"}, "unsupported_asset_type", "reject"),
        ({"pii_scan_status": "suspected"}, "pii_suspected", "quarantine"),
        ({"contract_ref": "omni://contracts/data/doc_asset/v1"}, "contract_mismatch", "reject"),
        ({"checksum_sha256": None}, "missing_checksum", "warn"),
        ({"metadata_status": ABSENT}, "missing_metadata", "quarantine"),
        ({"pii_scan_status": ABSENT}, "pii_scan_gap", "quarantine"),
    ],
)
def test_asset_refusals(tmp_path: Path, overrides: dict, code: str, judgment: str) -> None:
    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket()), **overrides)
    document = json.loads(manifest.read_text())
    document["assets"] = [{k: v for k, v in a.items() if v != ABSENT} for a in document["assets"]]
    manifest.write_text(json.dumps(document))
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


def test_covered_range_spans_the_readable_manifests_of_a_folder(tmp_path: Path) -> None:
    write_source(tmp_path, "a.jsonl", jsonl(ticket()), batch_day="20260417")
    write_source(tmp_path, "b.jsonl", jsonl(ticket()), batch_day="20260420")
    (tmp_path / "manifests" / "broken.json").write_text("{not json")  # skipped: the gate reports it
    assert covered_range(tmp_path / "manifests") == (date(2026, 4, 17), date(2026, 4, 20))
    assert covered_range(tmp_path / "data") is None  # no manifest there
    assert covered_range(tmp_path / "absent") is None


def test_demo_without_a_readable_manifest_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEK06_MANIFEST_DIR", str(tmp_path))
    assert main(["demo"]) == 2
    assert "invalid_argument: no readable manifest in" in capsys.readouterr().err


# ---------------------------------------------------------------- the 500 course tickets, remote and odd locations


def _manifest_for_course_file(tmp_path: Path, name: str = "tickets-seed-500.jsonl") -> Path:
    """A manifest a user would write for a course file: its real size and sha256, the file referenced in place."""
    content = course_fixture(name).read_bytes()
    manifest = dict(
        BASE_MANIFEST,
        manifest_id="manifest-course-seed-20260107-001",
        batch_id="batch-20260107-001",
        assets=[
            {
                "source_id": "structured:tickets:seed_500",
                "source_url_or_path": str(course_fixture(name)),
                "asset_type": "jsonl",
                "size_bytes": len(content),
                "checksum_sha256": hashlib.sha256(content).hexdigest(),
                "metadata_status": "complete",
                "pii_scan_status": "redacted",
            }
        ],
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "manifest_seed_500.json"
    path.write_text(json.dumps(manifest))
    return path


def test_manifest_for_the_500_ticket_course_file_is_accepted_and_loadable(tmp_path: Path) -> None:
    result = judge_manifest(_manifest_for_course_file(tmp_path), source_root=FIXTURES)
    (asset,) = result.assets
    assert (asset.judgment, asset.metadata_judgment, asset.reasons) == ("accept", "accept", [])
    assert asset.loadable and asset.path == course_fixture("tickets-seed-500.jsonl").resolve()
    assert asset.size_bytes == 507789 and not result.refused
    assert contracts.violations(contracts.GATE_REPORT, result.to_dict()) == []


def test_the_same_manifest_outside_its_source_root_is_refused(tmp_path: Path) -> None:
    # Default root: the manifest folder's parent, which does not hold the course file.
    (asset,) = judge_manifest(_manifest_for_course_file(tmp_path / "m")).assets
    assert _codes(asset) == {"path_outside_source_root"} and not asset.loadable


def test_remote_assets_keep_their_metadata_judgment(tmp_path: Path) -> None:
    manifest = write_source(
        tmp_path, "t.jsonl", b"", source_url_or_path="s3://bucket/t.jsonl", pii_scan_status="not_run"
    )
    (asset,) = judge_manifest(manifest).assets
    assert (asset.metadata_judgment, asset.judgment) == ("quarantine", "not_available")
    assert _codes(asset) == {"pii_scan_gap", "remote_source_not_configured"}


def test_a_rejecting_rule_outranks_not_available(tmp_path: Path) -> None:
    manifest = write_source(
        tmp_path, "t.jsonl", b"", source_url_or_path="s3://bucket/t.jsonl", contract_ref=DOC_CONTRACT
    )
    (asset,) = judge_manifest(manifest).assets
    assert asset.judgment == "reject" and asset.metadata_judgment == "reject"


@pytest.mark.parametrize(
    ("location", "loadable", "code"),
    [
        ("file://{data}/t.jsonl", True, None),
        ("file://localhost{data}/t.jsonl", True, None),
        ("file://{data}/t%2Ejsonl", True, None),
        ("file://elsewhere{data}/t.jsonl", False, "unsupported_scheme"),
        ("{data}/../../t.jsonl", False, "path_outside_source_root"),
        ("file:///etc/hostname", False, "path_outside_source_root"),
    ],
)
def test_local_locations(tmp_path: Path, location: str, loadable: bool, code: str | None) -> None:
    manifest = write_source(tmp_path / "root", "t.jsonl", jsonl(ticket()))
    document = json.loads(manifest.read_text())
    document["assets"][0]["source_url_or_path"] = location.format(data=tmp_path / "root" / "data")
    manifest.write_text(json.dumps(document))
    (asset,) = judge_manifest(manifest).assets
    assert asset.loadable == loadable, asset.reasons
    assert (code in _codes(asset)) if code else asset.reasons == []


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    manifest = write_source(tmp_path, "t.jsonl", b"", source_url_or_path="../data/pipe.jsonl")
    os.mkfifo(tmp_path / "data" / "pipe.jsonl")
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(judge_manifest(manifest)), daemon=True)
    worker.start()
    worker.join(timeout=20)  # opening a FIFO for reading would block until a writer comes
    assert results, "the gate blocked on a FIFO"
    (asset,) = results[0].assets
    assert _codes(asset) == {"not_a_regular_file"} and not asset.loadable


def test_messages_show_no_machine_path_inside_the_project() -> None:
    document = judge_manifest(course_fixture("manifest_week02_practice_v1.json")).to_dict()
    assert document["manifest_path"] == "tests/fixtures/omnisupport/manifest_week02_practice_v1.json"
    assert str(PROJECT_ROOT) not in json.dumps(document)


# ---------------------------------------------------------------- the command line


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_gate_on_the_practice_manifest_prints_three_judgments_and_exits_1() -> None:
    done = _cli("gate", "--manifest", "tests/fixtures/omnisupport/manifest_week02_practice_v1.json", "--json")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    document = json.loads(done.stdout)
    assert contracts.violations(contracts.GATE_REPORT, document) == []
    assert document["manifest_id"] == "manifest-week02-practice-20260420-001"
    assert [(a["metadata_judgment"], a["judgment"], a["loadable"]) for a in document["assets"]] == [
        ("accept", "not_available", False),
        ("warn", "not_available", False),
        ("quarantine", "not_available", False),
    ]
    assert all(a["reasons"][-1]["code"] == "remote_source_not_configured" for a in document["assets"])


def test_cli_gate_judges_the_synthetic_manifest_without_a_crash() -> None:
    done = _cli("gate", "--manifest", "tests/fixtures/omnisupport/manifest_tickets_synthetic_v1.json")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout.startswith("manifest-tickets-synthetic-20260331-001: not_available")
    assert done.stdout.count("remote_source_not_configured") == 2


def test_cli_gate_accepts_the_500_ticket_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _manifest_for_course_file(tmp_path)
    assert main(["gate", "--manifest", str(manifest), "--source-root", str(FIXTURES), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "accept" and document["assets"][0]["loadable"] is True


@pytest.mark.parametrize(
    ("content", "code"),
    [(None, "manifest_missing"), (b"{", "manifest_malformed_json"), (b'{"manifest_id": 1}', "manifest_invalid")],
)
def test_cli_gate_on_an_unreadable_manifest_exits_2_with_a_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, code: str
) -> None:
    path = tmp_path / "m.json"
    if content is not None:
        path.write_bytes(content)
    assert main(["gate", "--manifest", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert contracts.violations(contracts.GATE_REPORT, document) == []
    assert document["status"] == "unreadable" and [r["code"] for r in document["reasons"]] == [code]
    assert code in captured.err
    assert main(["gate", "--manifest", str(path)]) == 2  # without --json: the reason on stderr only
    assert capsys.readouterr().out == ""


def test_cli_gate_never_prints_a_report_that_breaks_its_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.gate import verdicts

    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket()))
    monkeypatch.setattr(verdicts, "GATE_REPORT_VERSION", "gate_report_v0")
    assert main(["gate", "--manifest", str(manifest), "--json"]) == 1
    captured = capsys.readouterr()
    assert "gate_report_invalid" in captured.err
    # The broken report is never shown; scripts get the one error document every --json command prints.
    document = json.loads(captured.out)
    assert (document["status"], document["reason_code"], document["exit_code"]) == ("error", "gate_report_invalid", 1)
    assert "assets" not in document


def test_a_manifest_bound_to_another_contract_names_it(tmp_path: Path) -> None:
    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket()), contract_ref="omni://contracts/data/ticket/v1")
    document = json.loads(manifest.read_text())
    document["contract_ref"] = DOC_CONTRACT
    manifest.write_text(json.dumps(document))
    (asset,) = judge_manifest(manifest).assets
    (reason,) = asset.reasons
    assert reason.code == "contract_mismatch" and DOC_CONTRACT in reason.message
    assert asset.judgment == "reject"


@pytest.mark.parametrize(
    ("location", "secret"),
    [
        ("s3://AKIAEXAMPLE:wJalrXUtnFEMIsecret@bucket/t.jsonl", "wJalrXUtnFEMIsecret"),
        (
            "https://bucket.s3.amazonaws.com/t.jsonl?X-Amz-Credential=AKIAEXAMPLE%2F20260417&X-Amz-Signature=fe5f80f7",
            "fe5f80f7",
        ),
        ("https://acct.blob.core.windows.net/c/t.jsonl?sv=2024-01-01&sig=c2VjcmV0", "c2VjcmV0"),
        ("gopher://user:hunter2@example.com/t.jsonl", "hunter2"),
    ],
)
def test_secrets_in_locations_are_never_shown(tmp_path: Path, location: str, secret: str) -> None:
    manifest = write_source(tmp_path, "t.jsonl", b"", source_url_or_path=location)
    document = judge_manifest(manifest).to_dict()
    shown = json.dumps(document)
    assert secret not in shown and "***" in shown
    assert document["assets"][0]["loadable"] is False
