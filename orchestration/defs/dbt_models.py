"""dbt models as Dagster assets: one partitioned selection, one dbt invocation per run (models + tests)."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
from dagster import AssetCheckEvaluation, AssetCheckResult, AssetExecutionContext, MetadataValue, Output
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.config import DBT_DOCS_STATIC_FILE, Settings
from orchestration.defs.partitions import PARTITIONS, SINGLE_RUN, run_window
from orchestration.defs.resources import FactoryResource
from orchestration.evidence.report import save_run_results
from orchestration.lib.translator import FactoryDbtTranslator
from orchestration.partitions import days_between
from orchestration.transform.dbt_project import ensure_manifest, prune_invocation_dirs, vars_arg
from orchestration.transform.figures import window_row_counts

TRANSLATOR = FactoryDbtTranslator(Settings.from_env().dbt_docs_url, DBT_DOCS_STATIC_FILE, PARTITIONS)


def _with_row_counts(context: AssetExecutionContext, event: Output, url: str, first: date, last: date) -> Output:
    """dagster/row_count on each partition's materialisation (its own count), the window's on the output."""
    asset_key = context.asset_key_for_output(event.output_name)
    props = context.assets_def.get_asset_spec(asset_key).metadata
    relation = props.get("dagster/relation_identifier") or props.get("dagster/table_name")
    if relation is None:
        return event
    try:
        counts = window_row_counts(url, _quoted(str(relation)), first, last)
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


@dbt_assets(
    manifest=ensure_manifest(),
    name="week06_dbt_models",
    partitions_def=PARTITIONS,
    backfill_policy=SINGLE_RUN,
    dagster_dbt_translator=TRANSLATOR,
)
def week06_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, factory: FactoryResource) -> Iterator[Any]:
    url = factory.export_dbt_env()
    settings = factory.settings()
    first, last, defaulted = run_window(context, settings)
    if defaulted:
        context.log.info(
            f"this run has no partition (e.g. a check's Execute button): dbt runs for the default "
            f"partition {first} (WEEK06_DEFAULT_PARTITION); launch it for a partition to check another day"
        )
    days = days_between(first, last)
    single = context.has_partition_key
    # raise_on_error=False: a failing test must still leave evidence behind; the evidence step
    # reads the results and holds downstream.
    invocation = dbt.cli(["build", "--vars", vars_arg(first, last)], context=context, raise_on_error=False)
    for event in invocation.stream().fetch_column_metadata(with_column_lineage=False):
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
        context.log.error("dbt produced no run_results.json; see the dbt log above")
    else:
        if not defaulted:
            save_run_results(settings.report_dir, context.run_id, run_results)
    prune_invocation_dirs()
