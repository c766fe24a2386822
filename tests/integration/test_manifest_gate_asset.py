"""The week06/factory/manifest_gate asset, materialised in-process by Dagster (no database needed).

Its metadata must show each declared file's judgment and reasons; a manifest the gate cannot read
must fail the materialisation with that manifest's reason.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import course_fixture
from tests.helpers import jsonl, ticket, write_source

PARTITION = "2026-04-17"


@pytest.fixture()
def manifest_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A source root with one good local file and the course's practice manifest, both covering PARTITION."""
    manifest = write_source(tmp_path, "ok.jsonl", jsonl(ticket()), batch_day="20260417")
    practice = json.loads(course_fixture("manifest_week02_practice_v1.json").read_text(encoding="utf-8"))
    (manifest.parent / "practice.json").write_text(json.dumps(practice))
    monkeypatch.setenv("WEEK06_MANIFEST_DIR", str(manifest.parent))
    monkeypatch.delenv("WEEK06_SOURCE_ROOT", raising=False)
    return manifest.parent


def _materialize() -> Any:
    from dagster import DagsterInstance, materialize

    from orchestration.config import Settings
    from orchestration.defs.factory import build_factory_assets
    from orchestration.defs.partitions import daily_partitions
    from orchestration.defs.resources import Week06MinioResource, Week06PostgresResource

    manifest_gate, _ = build_factory_assets(daily_partitions(Settings.from_env().partition_start))
    instance = DagsterInstance.ephemeral()
    return materialize(
        [manifest_gate],
        partition_key=PARTITION,
        resources={"week06_postgres": Week06PostgresResource(), "week06_minio": Week06MinioResource()},
        instance=instance,
        raise_on_error=False,
    )


def test_gate_asset_metadata_shows_each_judgment_and_its_reasons(manifest_dir: Path) -> None:
    result = _materialize()
    assert result.success
    (materialization,) = result.asset_materializations_for_node("week06__factory__manifest_gate")
    metadata = materialization.metadata
    judged = {a["source_id"]: a for a in metadata["asset_judgments"].value}
    assert judged["structured:tickets:ok"]["judgment"] == "accept" and judged["structured:tickets:ok"]["loadable"]
    assert [judged[f"structured:tickets:practice_{k}"]["metadata_judgment"] for k in ("ok", "warn", "quarantine")] == [
        "accept",
        "warn",
        "quarantine",
    ]
    warn = judged["structured:tickets:practice_warn"]
    assert warn["judgment"] == "not_available" and not warn["loadable"]
    assert [r["code"] for r in warn["reasons"]] == [
        "partial_metadata",
        "missing_checksum",
        "remote_source_not_configured",
    ]
    assert all(r["message"] for r in warn["reasons"])
    assert metadata["assets_loadable"].value == 1
    assert "remote_source_not_configured" in metadata["reason_codes"].value
    table = metadata["judgment_table"].value
    assert "| structured:tickets:practice_quarantine | not_available | quarantine | no |" in table
    assert "pii_scan_gap: pii_scan_status is not_run" in table


def test_an_unreadable_manifest_fails_the_gate_asset_with_its_reason(manifest_dir: Path) -> None:
    (manifest_dir / "broken.json").write_text('{"manifest_id": ')
    shutil.copy(course_fixture("manifest_tickets_synthetic_v1.json"), manifest_dir / "synthetic.json")
    result = _materialize()
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.step_failure_data.user_failure_data
    assert error is not None
    assert "manifest broken.json cannot be judged: manifest_malformed_json" in error.description
    assert error.metadata["unreadable_manifests"].value == 1
    assert "manifest_malformed_json" in error.metadata["reason_codes"].value
