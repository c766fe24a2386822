"""The thin Dagster layer: turns the core (gate, ingest, dbt, evidence) into assets, checks and jobs."""
