"""Jobs: the core materialisations, and source observation on its own."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from orchestration.defs.factory import SEED_MANIFESTS
from orchestration.defs.partitions import PARTITIONS
from orchestration.lib.translator import GROUP_NAME

week06_data_factory_job = define_asset_job(
    "week06_data_factory_job",
    selection=AssetSelection.groups(GROUP_NAME) - AssetSelection.assets(SEED_MANIFESTS),
    partitions_def=PARTITIONS,
    description="Gate -> ingest -> dbt build (models + tests) -> run evidence, for one partition or a range.",
    # The steps form one chain: the multiprocess default would only add a Python process per
    # step, each importing Dagster and loading the definitions again before it can start.
    executor_def=in_process_executor,
)

week06_source_observation_job = define_asset_job(
    "week06_source_observation_job",
    selection=AssetSelection.assets(SEED_MANIFESTS),
    description="Observes the manifest folder (never materialises anything).",
)
