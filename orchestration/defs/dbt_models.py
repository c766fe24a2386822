"""dbt models as Dagster assets: one partitioned selection, one dbt invocation per run (models + tests).

The engine is WEEK06_DBT_TARGET (postgres, the default, or spark). On Spark the step first lands
the window's raw rows in the parquet lake Spark reads (under the same build lock as dbt), and the
asset runs in the pool `week06_dbt_spark` (give it limit 1: two builds of one Spark model must
never overlap, and the embedded Derby metastore admits one Spark process at a time).
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition, Failure, PartitionsDefinition
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.db.locks import dbt_build_lock
from orchestration.defs.partitions import SINGLE_RUN, partition_range
from orchestration.defs.resources import Week06PostgresResource
from orchestration.defs.translator import FactoryDbtTranslator
from orchestration.evidence.report import save_run_results
from orchestration.lake.export import LakeError, export_partitions
from orchestration.transform.dbt_project import keep_partial_parse, prune_invocation_dirs, window_env

SPARK_POOL = "week06_dbt_spark"


def build_dbt_assets(
    manifest: Path, partitions: PartitionsDefinition, dbt_docs_url: str, dbt_target: str = "postgres"
) -> AssetsDefinition:
    """The dbt project's models and tests as one multi-asset, from an up-to-date manifest.

    `dbt_target` (Settings.dbt_target) only decides the pool: on Spark the step runs in SPARK_POOL.
    """
    return dbt_assets(
        manifest=manifest,
        name="week06_dbt_models",
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        dagster_dbt_translator=FactoryDbtTranslator(dbt_docs_url),
        pool=SPARK_POOL if dbt_target == "spark" else None,
    )(week06_dbt_models)


def week06_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, week06_postgres: Week06PostgresResource
) -> Iterator[Any]:
    url = week06_postgres.export_dbt_env()
    settings = week06_postgres.settings()
    first, last = partition_range(context)
    # The window goes to dbt in its environment, not as --vars: command-line vars are part of
    # dbt's saved parse, so each new partition would re-parse the whole project.
    window = window_env(first, last)
    context.log.info(f"dbt build, window {window}")
    # raise_on_error=False: a failing test must still leave evidence behind; the evidence step
    # reads the results and holds downstream. Unit tests check the models' logic, not the
    # partition's data: they run in CI (tests/e2e/test_dbt_models.py), not in every partition run.
    # One dbt build at a time per database: concurrent runs wait here instead of racing.
    with dbt_build_lock(url):
        if settings.dbt_target == "spark":
            _land_window(context, url, settings.lake_root, first, last)
        with _environment(window):  # dagster-dbt starts dbt with a copy of os.environ, inside cli()
            invocation = dbt.cli(
                ["build", "--exclude-resource-type", "unit_test"], context=context, raise_on_error=False
            )
        yield from invocation.stream()
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:
        # dbt stopped before running anything (e.g. a compilation error): the evidence step
        # then finds no results and holds the partition downstream.
        context.log.error(f"dbt produced no run_results.json; see the dbt log above ({invocation.get_error()})")
    else:
        save_run_results(settings.report_dir, context.run_id, run_results, engine=settings.dbt_target)
    keep_partial_parse(invocation.target_path)
    prune_invocation_dirs()


def _land_window(context: AssetExecutionContext, url: str, lake_root: str, first: date, last: date) -> None:
    """Spark reads raw.ticket_events from the parquet lake: land the window's raw rows there first."""
    try:
        export = export_partitions(url, lake_root, first, last)
    except LakeError as exc:
        raise Failure(description=str(exc)) from None
    by_status = export.to_dict()["partitions_by_status"]
    context.log.info(f"lake: {export.rows} raw rows for Spark, partitions {by_status}")


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set env vars for the duration of the block, then restore what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
