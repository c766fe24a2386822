"""dbt models as Dagster assets: one partitioned selection, one dbt invocation per run (models + tests)."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.config import Settings
from orchestration.db.locks import dbt_build_lock
from orchestration.defs.partitions import PARTITIONS, SINGLE_RUN, partition_range
from orchestration.defs.resources import FactoryResource
from orchestration.evidence.report import save_run_results
from orchestration.lib.translator import FactoryDbtTranslator
from orchestration.transform.dbt_project import ensure_manifest, prune_invocation_dirs, vars_arg

TRANSLATOR = FactoryDbtTranslator(Settings.from_env().dbt_docs_url)


@dbt_assets(
    manifest=ensure_manifest(),
    name="week06_dbt_models",
    partitions_def=PARTITIONS,
    backfill_policy=SINGLE_RUN,
    dagster_dbt_translator=TRANSLATOR,
)
def week06_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, factory: FactoryResource) -> Iterator[Any]:
    factory.export_dbt_env()
    first, last = partition_range(context)
    # raise_on_error=False: a failing test must still leave evidence behind; the evidence step
    # reads the results and holds downstream.
    # One dbt build at a time per database: concurrent runs wait here instead of racing.
    with dbt_build_lock(factory.database_url()):
        invocation = dbt.cli(["build", "--vars", vars_arg(first, last)], context=context, raise_on_error=False)
        yield from invocation.stream()
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:
        # dbt stopped before running anything (e.g. a compilation error): the evidence step
        # then finds no results and holds the partition downstream.
        context.log.error(f"dbt produced no run_results.json; see the dbt log above ({invocation.get_error()})")
    else:
        save_run_results(factory.settings().report_dir, context.run_id, run_results)
    prune_invocation_dirs()
