"""Jobs: the core materialisations, and source observation on its own.

The core job takes its partitions from the assets it selects (they all share one definition).
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from orchestration.defs.keys import SEED_MANIFESTS
from orchestration.defs.translator import GROUP_NAME

week06_data_factory_job = define_asset_job(
    "week06_data_factory_job",
    selection=AssetSelection.groups(GROUP_NAME) - AssetSelection.assets(SEED_MANIFESTS),
    description="Gate -> ingest -> dbt build (models + tests) -> run evidence, for one partition or a range.",
)

week06_source_observation_job = define_asset_job(
    "week06_source_observation_job",
    selection=AssetSelection.assets(SEED_MANIFESTS),
    description="Observes the manifest folder (never materialises anything).",
)
