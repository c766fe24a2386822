"""Assemble the one Definitions object from the settings: built when asked for, never at import.

Importing any module of orchestration.defs reads no environment and runs no `dbt parse`; the
partitions (WEEK06_PARTITION_START_DATE), the dbt manifest and the docs links are resolved here,
when Dagster loads the code location (orchestration/definitions.py) or the CLI runs the job
(orchestration/defs/runner.py). The result is cached per (start date, docs URL, dbt target,
manifest version), so a process that runs several jobs builds it once.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from dagster import AssetsDefinition, Definitions, SourceAsset, in_process_executor

from orchestration.config import DBT_PROJECT_DIR, Settings
from orchestration.defs.automation import build_automation
from orchestration.defs.dbt_models import build_dbt_assets
from orchestration.defs.evidence import build_evidence_asset
from orchestration.defs.externals import lakehouse_state_asset, support_kpi_mart_asset
from orchestration.defs.factory import build_factory_assets, seed_manifests
from orchestration.defs.freshness import build_raw_freshness_checks
from orchestration.defs.jobs import week06_data_factory_job, week06_source_observation_job
from orchestration.defs.lake import build_lake_asset
from orchestration.defs.ops import build_ops_assets
from orchestration.defs.partitions import daily_partitions
from orchestration.defs.resources import FactoryDbtCliResource, week06_resources
from orchestration.defs.sensors import evidence_after_failure, evidence_after_success
from orchestration.transform.dbt_project import dbt_executable, ensure_manifest


def build_definitions(settings: Settings | None = None) -> Definitions:
    """Every asset, job, sensor and resource of the factory, for these settings (default: the environment)."""
    settings = settings or Settings.from_env()
    manifest = ensure_manifest()  # `dbt parse` only when the project changed since the last parse
    automation = (settings.automation_enabled, settings.daily_schedule_hour, settings.observation_cron)
    return _definitions(
        (settings.partition_start, settings.partition_end),
        settings.dbt_docs_url,
        settings.dbt_target,
        automation,
        manifest,
        manifest.stat().st_mtime_ns,
    )


@cache
def _definitions(
    partition_range: tuple[date, date | None],
    dbt_docs_url: str,
    dbt_target: str,
    automation: tuple[bool, int, str],
    manifest: Path,
    manifest_version: int,
) -> Definitions:
    partitions = daily_partitions(*partition_range)
    freshness_checks = build_raw_freshness_checks(automation[1])
    schedules, sensors = build_automation(*automation, freshness_checks)
    assets: list[AssetsDefinition | SourceAsset] = [
        seed_manifests,
        *build_factory_assets(partitions),
        build_dbt_assets(manifest, partitions, dbt_docs_url, dbt_target),
        build_evidence_asset(partitions),
        lakehouse_state_asset,
        support_kpi_mart_asset,
        *build_ops_assets(partitions),
        build_lake_asset(partitions),
    ]
    return Definitions(
        assets=assets,
        asset_checks=freshness_checks,
        jobs=[week06_data_factory_job, week06_source_observation_job],
        schedules=schedules,
        sensors=[evidence_after_success, evidence_after_failure, *sensors],
        # Every job here is one chain of steps (gate, ingest, dbt, evidence): a process per step buys no
        # parallelism and costs a load of the definitions each. One process per run, for the named jobs
        # and for the runs backfills launch alike; runs scale out through the run launcher.
        executor=in_process_executor,
        resources={
            **week06_resources(),
            "dbt": FactoryDbtCliResource(
                project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
            ),
        },
    )
