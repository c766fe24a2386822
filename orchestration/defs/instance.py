"""The Dagster instance: where CLI runs are recorded, and what it knows about runs (for the backfill plan)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from orchestration.backfill.plan import RunRecord
from orchestration.config import Settings
from orchestration.fileio import write_text_atomic
from orchestration.partitions import days_between

LOCAL_INSTANCE_YAML = (
    "# Dagster instance of support-data-factory: default local storage.\ntelemetry:\n  enabled: false\n"
    "# One op at a time per pool: the only pool is week06_dbt_spark (dbt on Spark never overlaps itself).\n"
    "concurrency:\n  pools:\n    default_limit: 1\n"
)


def run_started_at(instance: DagsterInstance, run_id: str) -> datetime:
    """When the run started, per the instance (now, if the instance does not know yet)."""
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.start_time:
        return datetime.fromtimestamp(record.start_time, UTC)
    return datetime.now(UTC)


def instance_for(settings: Settings) -> DagsterInstance:
    """The persistent instance under DAGSTER_HOME, so CLI runs show up in the Dagster UI.

    Opened under an exclusive lock on DAGSTER_HOME/.instance.lock: two runs started at once on a
    fresh DAGSTER_HOME would otherwise both create the SQLite tables, and one fails ("table runs
    already exists"). The lock is held only while the instance opens its storage.
    """
    import fcntl

    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    with (settings.dagster_home / ".instance.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not config.exists():
            # Default local storage (SQLite under DAGSTER_HOME), no telemetry: nothing leaves the machine.
            write_text_atomic(config, LOCAL_INSTANCE_YAML)
        return DagsterInstance.from_config(str(settings.dagster_home))


JOB_NAME = "week06_data_factory"
_PARTITION_TAG = "dagster/partition"
_RANGE_START_TAG = "dagster/asset_partition_range_start"
_RANGE_END_TAG = "dagster/asset_partition_range_end"


def latest_runs(
    settings: Settings, first: date, last: date, instance: DagsterInstance | None = None
) -> dict[date, RunRecord]:
    """The latest finished run of the core job covering each partition of first..last.

    Empty when there is no Dagster instance under DAGSTER_HOME yet (nothing ever ran).
    """
    if instance is None:
        if not (settings.dagster_home / "dagster.yaml").exists():
            return {}
        instance = instance_for(settings)
    finished = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    records = instance.get_run_records(filters=RunsFilter(job_name=JOB_NAME, statuses=finished), limit=500)
    wanted = set(days_between(first, last))
    latest: dict[date, RunRecord] = {}
    for record in records:  # newest first
        tags = record.dagster_run.tags
        if _PARTITION_TAG in tags:
            covered = [date.fromisoformat(tags[_PARTITION_TAG])]
        elif _RANGE_START_TAG in tags and _RANGE_END_TAG in tags:
            covered = days_between(date.fromisoformat(tags[_RANGE_START_TAG]), date.fromisoformat(tags[_RANGE_END_TAG]))
        else:
            continue
        ended = datetime.fromtimestamp(record.end_time, UTC) if record.end_time else None
        for day in wanted.intersection(covered):
            latest.setdefault(day, RunRecord(record.dagster_run.run_id, record.dagster_run.status.value, ended))
    return latest
