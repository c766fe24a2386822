"""Jobs: the core materialisations, and source observation on its own."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from orchestration.defs.factory import SEED_MANIFESTS
from orchestration.defs.freshness import RAW_FRESHNESS_CHECKS
from orchestration.defs.partitions import PARTITIONS
from orchestration.lib.translator import GROUP_NAME

week06_data_factory_job = define_asset_job(
    "week06_data_factory_job",
    # The freshness check runs from its own sensor, never inside a factory run.
    selection=AssetSelection.groups(GROUP_NAME)
    - AssetSelection.assets(SEED_MANIFESTS)
    - AssetSelection.checks(*RAW_FRESHNESS_CHECKS),
    partitions_def=PARTITIONS,
    description="Gate -> ingest -> dbt build (models + tests) -> run evidence, for one partition or a range.",
)

week06_source_observation_job = define_asset_job(
    "week06_source_observation_job",
    selection=AssetSelection.assets(SEED_MANIFESTS),
    description="Observes the manifest folder (never materialises anything).",
)
