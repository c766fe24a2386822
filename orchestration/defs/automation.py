"""Automation: the daily schedule, the manifest sensor, source observation and freshness.

Everything here starts stopped (toggle it in the UI's Automation page) unless
WEEK06_AUTOMATION_ENABLED=1; docs/operating.md describes each switch.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from dagster import (
    AssetChecksDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    SupersessionWarning,
    build_sensor_for_freshness_checks,
    schedule,
    sensor,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.automation import contiguous_ranges, parse_cursor, scan_manifests
from orchestration.config import Settings
from orchestration.defs.freshness import daily_cron
from orchestration.defs.jobs import week06_data_factory_job, week06_source_observation_job
from orchestration.partitions import partition_bounds


def partition_request(first: date, last: date, run_key: str | None = None) -> RunRequest:
    """One run for first..last: a partition key for one day, a single-run range otherwise."""
    if first == last:
        return RunRequest(run_key=run_key, partition_key=first.isoformat())
    return RunRequest(
        run_key=run_key,
        tags={ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()},
    )


def build_automation(
    on: bool, daily_hour: int, observation_cron: str, freshness_checks: Sequence[AssetChecksDefinition]
) -> tuple[list[ScheduleDefinition], list[SensorDefinition]]:
    """The schedules and sensors: WEEK06_AUTOMATION_ENABLED (running or stopped by default),
    WEEK06_DAILY_SCHEDULE_HOUR and WEEK06_OBSERVATION_CRON. They read the rest of the settings
    when they are evaluated."""
    schedule_status = DefaultScheduleStatus.RUNNING if on else DefaultScheduleStatus.STOPPED
    sensor_status = DefaultSensorStatus.RUNNING if on else DefaultSensorStatus.STOPPED

    @schedule(
        name="week06_daily_schedule",
        job=week06_data_factory_job,
        cron_schedule=daily_cron(daily_hour),
        execution_timezone="UTC",
        default_status=schedule_status,
        description="Every day at WEEK06_DAILY_SCHEDULE_HOUR (UTC), runs the factory for yesterday's partition.",
    )
    def week06_daily_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        settings = Settings.from_env()
        yesterday = context.scheduled_execution_time.date() - timedelta(days=1)
        low, high = partition_bounds(settings, context.scheduled_execution_time.date())
        if not low <= yesterday <= high:
            return SkipReason(f"partition_out_of_range: {yesterday} is outside {low}..{high}")
        return partition_request(yesterday, yesterday, run_key=f"daily-{yesterday.isoformat()}")

    @sensor(
        name="week06_manifest_sensor",
        job=week06_data_factory_job,
        minimum_interval_seconds=60,
        default_status=sensor_status,
        description="Starts the factory for the partitions of new or changed manifests in WEEK06_MANIFEST_DIR "
        "(cursor: the fingerprints of the manifests already seen; each version of a manifest runs once).",
    )
    def week06_manifest_sensor(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        settings = Settings.from_env()
        low, high = partition_bounds(settings)
        scan = scan_manifests(settings.manifest_dir, parse_cursor(context.cursor), low, high)
        for name in scan.unreadable:
            context.log.warning(f"manifest {name} cannot be read; it is retried when it changes")
        if not scan.changed:
            return SkipReason(f"no new or changed manifest in {settings.manifest_dir.name}/")
        requests = [partition_request(a, b, run_key=scan.run_key(a, b)) for a, b in contiguous_ranges(scan.partitions)]
        context.log.info(
            f"{len(scan.changed)} new or changed manifest(s): runs for {contiguous_ranges(scan.partitions)}"
        )
        return SensorResult(run_requests=requests, cursor=scan.cursor)

    @schedule(
        name="week06_source_observation_schedule",
        job=week06_source_observation_job,
        cron_schedule=observation_cron,
        execution_timezone="UTC",
        default_status=schedule_status,
        description="Observes the manifest folder (WEEK06_OBSERVATION_CRON, every 15 minutes by default).",
    )
    def week06_source_observation_schedule(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
        yield RunRequest()

    with warnings.catch_warnings():  # superseded by FreshnessPolicy: see defs/freshness.py
        warnings.simplefilter("ignore", SupersessionWarning)
        freshness_sensor = build_sensor_for_freshness_checks(
            freshness_checks=freshness_checks, name="week06_freshness_sensor", default_status=sensor_status
        )
    return [week06_daily_schedule, week06_source_observation_schedule], [week06_manifest_sensor, freshness_sensor]
