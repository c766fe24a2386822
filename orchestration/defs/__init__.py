"""The thin Dagster layer: turns the core (gate, ingest, dbt, evidence) into assets, checks and jobs.

Nothing here reads the environment or runs dbt at import; orchestration/defs/assembly.py builds
the definitions when they are asked for.
"""

import warnings

from dagster import BetaWarning, PreviewWarning

# backfill_policy and observable source assets are marked beta; single-run backfills are how
# dagster-dbt documents range runs.
warnings.filterwarnings("ignore", category=BetaWarning)
# Partitioned asset checks are in preview; they are how a partition's page shows its check results.
warnings.filterwarnings("ignore", category=PreviewWarning, message=".*partitions_def on an AssetCheckSpec.*")
