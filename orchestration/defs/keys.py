"""The week06 asset keys as Dagster AssetKeys, made from the core's strings (orchestration/asset_keys.py)."""

from __future__ import annotations

from dagster import AssetKey

from orchestration import asset_keys


def asset_key(path: str) -> AssetKey:
    """ "week06/silver/ticket_fact_partitioned" -> AssetKey(["week06", "silver", "ticket_fact_partitioned"])."""
    return AssetKey(path.split("/"))


SEED_MANIFESTS = asset_key(asset_keys.SEED_MANIFESTS)
MANIFEST_GATE = asset_key(asset_keys.MANIFEST_GATE)
RAW_TICKET_EVENTS = asset_key(asset_keys.RAW_TICKET_EVENTS)
SILVER_TICKET_FACT = asset_key(asset_keys.SILVER_TICKET_FACT)
GOLD_KPI_DAILY = asset_key(asset_keys.GOLD_KPI_DAILY)
RUN_EVIDENCE_REPORT = asset_key(asset_keys.RUN_EVIDENCE_REPORT)
LAKEHOUSE_STATE = asset_key(asset_keys.LAKEHOUSE_STATE)
SUPPORT_KPI_MART = asset_key(asset_keys.SUPPORT_KPI_MART)
BACKFILL_PLAN = asset_key(asset_keys.BACKFILL_PLAN)
DELIVERY_SUMMARY = asset_key(asset_keys.DELIVERY_SUMMARY)
RAW_TICKET_EVENTS_PARQUET = asset_key(asset_keys.RAW_TICKET_EVENTS_PARQUET)
