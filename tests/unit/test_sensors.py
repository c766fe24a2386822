"""Which finished runs the evidence sensors close: the core job's, and a UI backfill's (the asset job)."""

from __future__ import annotations

from dagster import DagsterRun

from orchestration.defs.keys import RUN_EVIDENCE_REPORT, SILVER_TICKET_FACT
from orchestration.defs.sensors import _meant_to_write_evidence


def test_the_core_job_and_a_backfill_holding_the_evidence_asset_get_a_verdict() -> None:
    assert _meant_to_write_evidence(DagsterRun(job_name="week06_data_factory"))
    backfill = DagsterRun(job_name="__ASSET_JOB", asset_selection=frozenset({SILVER_TICKET_FACT, RUN_EVIDENCE_REPORT}))
    assert _meant_to_write_evidence(backfill)


def test_a_run_of_some_assets_only_gets_no_verdict_written_for_it() -> None:
    assert not _meant_to_write_evidence(
        DagsterRun(job_name="__ASSET_JOB", asset_selection=frozenset({SILVER_TICKET_FACT}))
    )
    assert not _meant_to_write_evidence(DagsterRun(job_name="week06_source_observation_job"))
