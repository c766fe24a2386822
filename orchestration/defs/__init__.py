"""The thin Dagster layer: turns the core (gate, ingest, dbt, evidence) into assets, checks and jobs.

Nothing here works at import time; orchestration/defs/assembly.py builds the definitions on demand.
"""
