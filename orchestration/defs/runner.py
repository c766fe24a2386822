"""Run the core job in-process for a partition or a range: the one door from the CLI into Dagster.

`orchestration.cli` imports this module (lazily, inside the commands that run the job) and nothing
else of orchestration.defs; an import-linter contract keeps it that way (see pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dagster import DagsterInstance
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.backfill.plan import RunRecord
from orchestration.config import Settings
from orchestration.defs.assembly import build_definitions
from orchestration.defs.instance import instance_for, latest_runs


@dataclass(frozen=True)
class JobOutcome:
    run_id: str
    success: bool
    failed_steps: list[str]


def run_partitions(
    first: date, last: date, *, instance: DagsterInstance | None = None, log_level: str = "INFO"
) -> JobOutcome:
    settings = Settings.from_env()
    job = build_definitions(settings).resolve_job_def("week06_data_factory")
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


def partition_run_history(first: date, last: date) -> dict[date, RunRecord]:
    """The latest finished run of the core job per partition, from the instance under DAGSTER_HOME."""
    return latest_runs(Settings.from_env(), first, last)
