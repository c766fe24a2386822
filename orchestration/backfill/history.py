"""The Dagster run history the backfill plan consults: the latest run of the core job per partition."""

from __future__ import annotations

from datetime import UTC, date, datetime

from orchestration.backfill.plan import RunRecord
from orchestration.config import Settings
from orchestration.partitions import days_between

JOB_NAME = "week06_data_factory"
_PARTITION_TAG = "dagster/partition"
_RANGE_START_TAG = "dagster/asset_partition_range_start"
_RANGE_END_TAG = "dagster/asset_partition_range_end"


def latest_runs(settings: Settings, first: date, last: date, instance: object | None = None) -> dict[date, RunRecord]:
    """The latest finished run of the core job covering each partition of first..last.

    Empty when there is no Dagster instance under DAGSTER_HOME yet (nothing ever ran).
    """
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    if instance is None:
        if not (settings.dagster_home / "dagster.yaml").exists():
            return {}
        instance = DagsterInstance.from_config(str(settings.dagster_home))
    assert isinstance(instance, DagsterInstance)
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
