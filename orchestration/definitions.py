"""The one Definitions object `dagster dev` loads: assembly only, no logic."""

from __future__ import annotations

from dagster import Definitions, in_process_executor
from dagster_dbt import DbtCliResource

from orchestration.config import DBT_PROJECT_DIR
from orchestration.defs.dbt_models import week06_dbt_models
from orchestration.defs.evidence import run_evidence_report
from orchestration.defs.factory import manifest_gate, raw_ticket_events_partitioned, seed_manifests
from orchestration.defs.jobs import week06_data_factory_job, week06_source_observation_job
from orchestration.defs.resources import FactoryResource
from orchestration.defs.sensors import evidence_after_failure, evidence_after_success
from orchestration.transform.dbt_project import dbt_executable

defs = Definitions(
    assets=[seed_manifests, manifest_gate, raw_ticket_events_partitioned, week06_dbt_models, run_evidence_report],
    jobs=[week06_data_factory_job, week06_source_observation_job],
    sensors=[evidence_after_success, evidence_after_failure],
    # Every job here is one chain of steps (gate, ingest, dbt, evidence): a process per step buys no
    # parallelism and costs a load of the definitions each. One process per run, for the named jobs
    # and for the runs backfills launch alike; runs scale out through the run launcher.
    executor=in_process_executor,
    resources={
        "factory": FactoryResource(),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    },
)
