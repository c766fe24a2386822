"""Jobs: the core materialisations, and source observation on its own.

The core job takes its partitions from the assets it selects (they all share one definition).
"""

from __future__ import annotations

from dagster import AssetCheckKey, AssetSelection, define_asset_job, in_process_executor

from orchestration.defs.freshness import FRESHNESS_CHECK_NAME
from orchestration.defs.keys import LAKEHOUSE_STATE, RAW_TICKET_EVENTS, SEED_MANIFESTS, SUPPORT_KPI_MART
from orchestration.defs.translator import GROUP_NAME

# Observed, never materialised: the manifest folder and the optional Week04/Week05 neighbours.
OBSERVED = AssetSelection.assets(SEED_MANIFESTS, LAKEHOUSE_STATE, SUPPORT_KPI_MART)

week06_data_factory_job = define_asset_job(
    "week06_data_factory",
    # The freshness check runs from its own sensor, never inside a factory run.
    selection=AssetSelection.groups(GROUP_NAME)
    - OBSERVED
    - AssetSelection.checks(AssetCheckKey(RAW_TICKET_EVENTS, FRESHNESS_CHECK_NAME)),
    description="Gate -> ingest -> dbt build (models + tests) -> run evidence, for one partition or a range.",
    # The steps form one chain: the multiprocess default would only add a Python process per
    # step, each importing Dagster and loading the definitions again before it can start.
    executor_def=in_process_executor,
)

week06_source_observation_job = define_asset_job(
    "week06_source_observation_job",
    selection=OBSERVED,
    description="Observes the manifest folder and the optional Week04/Week05 neighbours (never materialises).",
)
