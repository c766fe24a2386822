"""The Dagster instance: where CLI runs are recorded, and what it knows about a run."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import DagsterInstance

from orchestration.config import Settings

LOCAL_INSTANCE_YAML = (
    "# Dagster instance of support-data-factory: default local storage.\ntelemetry:\n  enabled: false\n"
)


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
