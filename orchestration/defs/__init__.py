"""The thin Dagster layer: turns the core (gate, ingest, dbt, evidence) into assets, checks and jobs."""

import warnings

from dagster import BetaWarning

# backfill_policy is marked beta; single-run backfills are how dagster-dbt documents range runs.
warnings.filterwarnings("ignore", category=BetaWarning)
