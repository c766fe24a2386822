"""Run the core job in-process for a partition or a range: the one door from the CLI into Dagster.

`orchestration.cli.commands.job` imports this module (lazily, inside the functions that run the job)
and the CLI imports nothing else of orchestration.defs; import-linter contracts keep it that way
(see pyproject.toml).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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
    errors: list[str] = field(default_factory=list)  # failed steps' messages and errors the steps logged


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
    instance = instance or instance_for(settings)
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        instance=instance,
        raise_on_error=False,
        **options,
    )
    failures = [e for e in result.all_events if e.is_step_failure and e.step_key]
    errors = []
    for event in failures:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            errors.append(str(error.message) + "".join(f"\n{c.message}" for c in _causes(error)))
    # Errors the steps logged without failing (dbt stopped early, a file of the ingest failed).
    errors += [
        e.user_message
        for e in instance.all_logs(result.run_id)
        if not e.is_dagster_event and isinstance(e.level, int) and e.level >= logging.ERROR
    ]
    return JobOutcome(result.run_id, result.success, [str(e.step_key) for e in failures], errors)


def _causes(error: Any) -> list[Any]:
    found = []
    while getattr(error, "cause", None) is not None:
        error = error.cause
        found.append(error)
    return found


def partition_run_history(first: date, last: date) -> dict[date, RunRecord]:
    """The latest finished run of the core job per partition, from the instance under DAGSTER_HOME."""
    return latest_runs(Settings.from_env(), first, last)
