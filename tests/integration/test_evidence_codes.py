"""Evidence reason codes that need the database: an empty partition, and runs that end without evidence."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from orchestration import contracts
from orchestration.config import Settings
from orchestration.db.connection import connect
from orchestration.db.schema import ensure_schema
from orchestration.evidence.completion import ensure_evidence
from orchestration.evidence.report import read_evidence

QUIET_DAY = date(2026, 2, 1)  # no seed manifest covers it, no test loads rows into it


@pytest.fixture()
def settings(pg_url: str, tmp_path: Path) -> Settings:
    with connect(pg_url) as conn:
        ensure_schema(conn)
        conn.commit()
    return dataclasses.replace(Settings.from_env(), report_dir=tmp_path / "reports")


@pytest.mark.parametrize(
    ("run_succeeded", "code", "check"),
    [(True, "evidence_step_skipped", "evidence_step"), (False, "run_failed", "dagster_run")],
)
def test_a_run_without_its_evidence_step_still_leaves_a_verdict(
    pg_url: str, settings: Settings, run_succeeded: bool, code: str, check: str
) -> None:
    written = ensure_evidence(
        pg_url,
        settings,
        QUIET_DAY,
        QUIET_DAY,
        run_id="run-without-evidence",
        started_at=datetime.now(UTC),
        run_succeeded=run_succeeded,
        failed_steps=[] if run_succeeded else ["week06__ingestion__raw_ticket_events_partitioned"],
    )
    assert written == [QUIET_DAY]
    evidence = read_evidence(settings.report_dir, QUIET_DAY)
    assert evidence is not None
    assert evidence["downstream_decision"] == "hold_downstream"
    by_name = {c["name"]: c for c in evidence["checks"]}
    assert by_name[check]["status"] == "failed" and code in by_name[check]["reason_codes"]
    # Nothing was ever loaded for that day, and no manifest covers it: the course's checks say both.
    assert {code, "no_valid_input_rows", "structured_manifest_missing_or_empty", "asset_checks_failed"} <= set(
        evidence["reason_codes"]
    )
    assert contracts.violations(contracts.RUN_EVIDENCE, evidence) == []
