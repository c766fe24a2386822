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

import psycopg
from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    PartitionsDefinition,
    TableColumn,
    TableSchema,
)
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.config import DBT_DOCS_STATIC_FILE
from orchestration.db.catalog import table_columns
from orchestration.db.locks import dbt_build_lock
from orchestration.defs.partitions import SINGLE_RUN, run_window
from orchestration.defs.resources import Week06PostgresResource
from orchestration.defs.translator import FactoryDbtTranslator
from orchestration.evidence.report import save_run_results
from orchestration.lake.export import LakeError, export_partitions
from orchestration.partitions import days_between
from orchestration.transform.dbt_project import keep_partial_parse, prune_invocation_dirs, window_env
from orchestration.transform.figures import window_row_counts

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
        dagster_dbt_translator=FactoryDbtTranslator(dbt_docs_url, DBT_DOCS_STATIC_FILE, partitions),
        pool=SPARK_POOL if dbt_target == "spark" else None,
    )(week06_dbt_models)


def _with_row_counts(context: AssetExecutionContext, event: Output, url: str, first: date, last: date) -> Output:
    """dagster/row_count on each partition's materialisation (its own count), the window's on the output."""
    asset_key = context.asset_key_for_output(event.output_name)
    props = context.assets_def.get_asset_spec(asset_key).metadata
    relation = props.get("dagster/relation_identifier") or props.get("dagster/table_name")
    if relation is None:
        return event
    try:
        counts = window_row_counts(url, _quoted(str(relation)), first, last)
        schema, table = [part.strip('"') for part in str(relation).split(".")][-2:]
        # Column types from the catalog: one cheap query, where dagster-dbt's column metadata would
        # load the dbt adapter into the run's process (seconds; see FactoryDbtCliResource).
        columns = TableSchema(columns=[TableColumn(name, kind) for name, kind in table_columns(url, schema, table)])
    except psycopg.Error as exc:
        context.log.warning(f"row counts of {relation} unavailable: {exc.__class__.__name__}")
        return event
    if context.has_partition_key or context.has_partition_key_range:
        for day, rows in counts.items():
            context.add_asset_metadata({"dagster/row_count": rows}, asset_key=asset_key, partition_key=day.isoformat())
    return event.with_metadata(
        {
            **event.metadata,
            "rows_by_partition": MetadataValue.json({d.isoformat(): n for d, n in counts.items()}),
            "window_row_count": sum(counts.values()),
            "dagster/column_schema": columns,
            "partition_window": f"{first.isoformat()}..{last.isoformat()}",
        }
    )


def _quoted(relation: str) -> str:
    """schema.table, quoted: the manifest's database part names the database dbt parsed against."""
    parts = [part.strip('"') for part in relation.split(".")][-2:]
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _per_partition(result: AssetCheckResult, days: list[date], defaulted: bool) -> Iterator[AssetCheckEvaluation]:
    """One evaluation per partition of the window, so each partition's page shows its checks."""
    window = f"{days[0].isoformat()}..{days[-1].isoformat()}"
    assert result.asset_key is not None and result.check_name is not None  # dagster-dbt always names both
    for day in days:
        yield AssetCheckEvaluation(
            asset_key=result.asset_key,
            check_name=result.check_name,
            passed=result.passed,
            severity=result.severity,
            description=result.description,
            metadata={
                **result.metadata,
                "partition_window": window,
                **({"partition_source": "WEEK06_DEFAULT_PARTITION (the run had none)"} if defaulted else {}),
            },
            partition=day.isoformat(),
        )


def week06_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, week06_postgres: Week06PostgresResource
) -> Iterator[Any]:
    url = week06_postgres.export_dbt_env()
    settings = week06_postgres.settings()
    first, last, defaulted = run_window(context, settings.default_partition)
    if defaulted:
        context.log.info(
            f"this run has no partition (e.g. a check's Execute button): dbt runs for the default "
            f"partition {first} (WEEK06_DEFAULT_PARTITION); launch it for a partition to check another day"
        )
    days = days_between(first, last)
    single = context.has_partition_key
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
        for event in invocation.stream():
            if isinstance(event, Output):
                yield _with_row_counts(context, event, url, first, last)
            elif isinstance(event, AssetCheckResult) and not single:
                yield from _per_partition(event, days, defaulted)
            else:
                yield event
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:
        # dbt stopped before running anything (e.g. a compilation error): the evidence step
        # then finds no results and holds the partition downstream.
        context.log.error(f"dbt produced no run_results.json; see the dbt log above ({invocation.get_error()})")
    else:
        if not defaulted:
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
