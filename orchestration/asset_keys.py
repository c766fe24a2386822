"""The week06 asset keys the code names, once, as the course spells them ("week06/<layer>/<name>").

Plain strings so that the core can write them into evidence without knowing Dagster; the Dagster
layer turns them into AssetKeys (orchestration/defs/keys.py). dbt models declare their keys in
their YAML `meta.dagster.asset_key`; a test checks that the built definitions hold every key here.
"""

from __future__ import annotations

SEED_MANIFESTS = "week06/source/seed_manifests"
MANIFEST_GATE = "week06/factory/manifest_gate"
RAW_TICKET_EVENTS = "week06/ingestion/raw_ticket_events_partitioned"
SILVER_TICKET_FACT = "week06/silver/ticket_fact_partitioned"
GOLD_KPI_DAILY = "week06/gold/support_kpi_daily"
RUN_EVIDENCE_REPORT = "week06/ops/run_evidence_report"
LAKEHOUSE_STATE = "week06/external/lakehouse_state"
SUPPORT_KPI_MART = "week06/external/support_kpi_mart"
BACKFILL_PLAN = "week06/ops/backfill_plan"
DELIVERY_SUMMARY = "week06/ops/data_factory_delivery_summary"
# Outside the course's job: raw partitions as parquet for the Spark engine (docs/scale-out.md).
RAW_TICKET_EVENTS_PARQUET = "week06/lake/raw_ticket_events_parquet"
