"""The one Definitions object `dagster dev` loads: assembly only, no logic."""

from __future__ import annotations

from dagster import Definitions
from dagster_dbt import DbtCliResource

from orchestration.config import DBT_PROJECT_DIR
from orchestration.defs.dbt_models import week06_dbt_models
from orchestration.defs.evidence import run_evidence_report
from orchestration.defs.factory import manifest_gate, raw_ticket_events_partitioned, seed_manifests
from orchestration.defs.jobs import week06_data_factory_job, week06_source_observation_job
from orchestration.defs.lake import raw_ticket_events_parquet
from orchestration.defs.resources import FactoryResource
from orchestration.defs.sensors import evidence_after_failure, evidence_after_success
from orchestration.transform.dbt_project import dbt_executable

defs = Definitions(
    assets=[
        seed_manifests,
        manifest_gate,
        raw_ticket_events_partitioned,
        week06_dbt_models,
        run_evidence_report,
        raw_ticket_events_parquet,
    ],
    jobs=[week06_data_factory_job, week06_source_observation_job],
    sensors=[evidence_after_success, evidence_after_failure],
    resources={
        "factory": FactoryResource(),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    },
)
