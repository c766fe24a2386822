"""Sensors: no partition of a finished run is left without a verdict."""

from datetime import date

from dagster import (
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunStatusSensorContext,
    run_status_sensor,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from orchestration.defs.instance import run_started_at
from orchestration.defs.jobs import week06_data_factory_job
from orchestration.defs.keys import RUN_EVIDENCE_REPORT
from orchestration.defs.resources import Week06PostgresResource
from orchestration.evidence.completion import ensure_evidence


def _run_partitions(tags: dict[str, str]) -> tuple[date, date] | None:
    if PARTITION_NAME_TAG in tags:
        day = date.fromisoformat(tags[PARTITION_NAME_TAG])
        return day, day
    if ASSET_PARTITION_RANGE_START_TAG in tags and ASSET_PARTITION_RANGE_END_TAG in tags:
        return (
            date.fromisoformat(tags[ASSET_PARTITION_RANGE_START_TAG]),
            date.fromisoformat(tags[ASSET_PARTITION_RANGE_END_TAG]),
        )
    return None


def _meant_to_write_evidence(run: DagsterRun) -> bool:
    """The core job, or any other run whose selection holds the evidence asset: a backfill launched
    from the UI runs the implicit asset job, not week06_data_factory. A run that materialises only
    some assets (say silver alone) never planned a verdict, and gets none written for it."""
    if run.job_name == week06_data_factory_job.name:
        return True
    return run.asset_selection is not None and RUN_EVIDENCE_REPORT in run.asset_selection


def _close_evidence_gap(
    context: RunStatusSensorContext, week06_postgres: Week06PostgresResource, succeeded: bool
) -> None:
    run = context.dagster_run
    window = _run_partitions(dict(run.tags))
    if window is None or not _meant_to_write_evidence(run):
        return
    started = run_started_at(context.instance, run.run_id)
    failed_steps = (
        []
        if succeeded
        else [
            e.step_key
            for e in context.instance.all_logs(run.run_id)
            if e.dagster_event is not None and e.dagster_event.is_step_failure and e.step_key
        ]
    )
    written = ensure_evidence(
        week06_postgres.database_url(),
        week06_postgres.settings(),
        *window,
        run_id=run.run_id,
        started_at=started,
        run_succeeded=succeeded,
        failed_steps=failed_steps,
    )
    if written:
        context.log.warning(f"run {run.run_id} ended without evidence for {written}; wrote holding evidence")


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    # Every job of the code location (backfills run the implicit asset job); see _meant_to_write_evidence.
    name="week06_evidence_after_success",
    default_status=DefaultSensorStatus.RUNNING,
)
def evidence_after_success(context: RunStatusSensorContext, week06_postgres: Week06PostgresResource) -> None:
    _close_evidence_gap(context, week06_postgres, succeeded=True)


@run_status_sensor(
    run_status=DagsterRunStatus.FAILURE,
    name="week06_evidence_after_failure",
    default_status=DefaultSensorStatus.RUNNING,
)
def evidence_after_failure(context: RunStatusSensorContext, week06_postgres: Week06PostgresResource) -> None:
    _close_evidence_gap(context, week06_postgres, succeeded=False)
