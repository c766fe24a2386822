"""dbt models as Dagster assets: one partitioned selection, one dbt invocation per run (models + tests).

The engine is WEEK06_DBT_TARGET (postgres, the default, or spark). On Spark the step first lands
the window's raw rows in the parquet lake Spark reads, and the asset runs in the pool
`week06_dbt_spark` (give it limit 1: two builds of one Spark model must never overlap, and
the embedded Derby metastore admits one Spark process at a time).
"""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, Failure
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.config import Settings
from orchestration.defs.partitions import PARTITIONS, SINGLE_RUN, partition_range
from orchestration.defs.resources import FactoryResource
from orchestration.evidence.report import save_run_results
from orchestration.lake.export import LakeError, export_partitions
from orchestration.lib.translator import FactoryDbtTranslator
from orchestration.transform.dbt_project import ensure_manifest, prune_invocation_dirs, vars_arg

TRANSLATOR = FactoryDbtTranslator(Settings.from_env().dbt_docs_url)
SPARK_POOL = "week06_dbt_spark"


@dbt_assets(
    manifest=ensure_manifest(),
    name="week06_dbt_models",
    partitions_def=PARTITIONS,
    backfill_policy=SINGLE_RUN,
    dagster_dbt_translator=TRANSLATOR,
    pool=SPARK_POOL if Settings.from_env().dbt_target == "spark" else None,
)
def week06_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, factory: FactoryResource) -> Iterator[Any]:
    factory.export_dbt_env()
    settings = factory.settings()
    first, last = partition_range(context)
    if settings.dbt_target == "spark":
        try:
            export = export_partitions(factory.database_url(), settings.lake_root, first, last)
        except LakeError as exc:
            raise Failure(description=str(exc)) from None
        by_status = export.to_dict()["partitions_by_status"]
        context.log.info(f"lake: {export.rows} raw rows for Spark, partitions {by_status}")
    # raise_on_error=False: a failing test must still leave evidence behind; the evidence step
    # reads the results and holds downstream.
    invocation = dbt.cli(["build", "--vars", vars_arg(first, last)], context=context, raise_on_error=False)
    yield from invocation.stream()
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:
        # dbt stopped before running anything (e.g. a compilation error): the evidence step
        # then finds no results and holds the partition downstream.
        context.log.error("dbt produced no run_results.json; see the dbt log above")
    else:
        save_run_results(settings.report_dir, context.run_id, run_results, engine=settings.dbt_target)
    prune_invocation_dirs()
