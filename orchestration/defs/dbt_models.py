"""dbt models as Dagster assets: one partitioned selection, one dbt invocation per run (models + tests)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.config import Settings
from orchestration.defs.partitions import PARTITIONS, SINGLE_RUN, partition_range
from orchestration.defs.resources import FactoryResource
from orchestration.evidence.report import save_run_results
from orchestration.lib.translator import FactoryDbtTranslator
from orchestration.transform.dbt_project import ensure_manifest, keep_partial_parse, prune_invocation_dirs, window_env

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
    # The window goes to dbt in its environment, not as --vars: command-line vars are part of
    # dbt's saved parse, so each new partition would re-parse the whole project.
    window = window_env(first, last)
    context.log.info(f"dbt build, window {window}")
    # raise_on_error=False: a failing test must still leave evidence behind; the evidence step
    # reads the results and holds downstream.
    with _environment(window):  # dagster-dbt starts dbt with a copy of os.environ, inside cli()
        invocation = dbt.cli(["build"], context=context, raise_on_error=False)
    yield from invocation.stream()
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:
        # dbt stopped before running anything (e.g. a compilation error): the evidence step
        # then finds no results and holds the partition downstream.
        context.log.error("dbt produced no run_results.json; see the dbt log above")
    else:
        save_run_results(factory.settings().report_dir, context.run_id, run_results)
    keep_partial_parse(invocation.target_path)
    prune_invocation_dirs()


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
