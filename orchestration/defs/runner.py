"""Run the core job in-process for a partition or a range (what `data-factory run` and the demo call)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dagster import DagsterInstance
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.config import Settings

LOCAL_INSTANCE_YAML = (
    "# Dagster instance of support-data-factory: default local storage.\ntelemetry:\n  enabled: false\n"
    "# One op at a time per pool: the only pool is week06_dbt_spark (dbt on Spark never overlaps itself).\n"
    "concurrency:\n  pools:\n    default_limit: 1\n"
)


@dataclass(frozen=True)
class JobOutcome:
    run_id: str
    success: bool
    failed_steps: list[str]


def run_started_at(instance: DagsterInstance, run_id: str) -> datetime:
    """When the run started, per the instance (now, if the instance does not know yet)."""
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.start_time:
        return datetime.fromtimestamp(record.start_time, UTC)
    return datetime.now(UTC)


def instance_for(settings: Settings) -> DagsterInstance:
    """The persistent instance under DAGSTER_HOME, so CLI runs show up in the Dagster UI."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        # Default local storage (SQLite under DAGSTER_HOME), no telemetry: nothing leaves the machine.
        config.write_text(LOCAL_INSTANCE_YAML)
    return DagsterInstance.from_config(str(settings.dagster_home))


def run_partitions(
    first: date, last: date, *, instance: DagsterInstance | None = None, log_level: str = "INFO"
) -> JobOutcome:
    from orchestration.definitions import defs

    settings = Settings.from_env()
    job = defs.resolve_job_def("week06_data_factory_job")
    options: dict[str, Any]
    if first == last:
        options = {"partition_key": first.isoformat()}
    else:
        # A range runs as one run (single-run backfill policy), hence one dbt invocation.
        options = {
            "tags": {
                ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
                ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
            }
        }
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        instance=instance or instance_for(settings),
        raise_on_error=False,
        **options,
    )
    failed = [e.step_key for e in result.all_events if e.is_step_failure and e.step_key]
    return JobOutcome(result.run_id, result.success, failed)
